package conversation

import (
	"fmt"
	"slices"
	"strings"
)

func (rep *Report) collect(rec any) {
	if rep.refs == nil {
		rep.refs = &refs{}
	}
	r := rep.refs
	var c *Cluster
	switch v := rec.(type) {
	case *Conversation:
		r.ids = append(r.ids, v.ChatID)
	case *ConversationSummary:
		r.ids = append(r.ids, v.ChatID)
	case *Cluster:
		c = v
	case *ProjectedCluster:
		c = &v.Cluster
	}
	if c == nil {
		return
	}
	r.ids = append(r.ids, c.ID)
	if c.ParentID != nil {
		r.parents = append(r.parents, *c.ParentID)
	}
	if r.members == nil {
		r.members = make(map[string]struct{})
	}
	for _, id := range c.ChatIDs {
		r.members[id] = struct{}{}
	}
}

// CrossCheck compares the files of one checkpoint, checked with
// CheckOptions.CollectRefs, and describes inconsistencies between them:
// duplicate chat ids, summaries of unknown conversations, clusters listing
// unknown chat ids, parent ids that name no cluster. Each finding names the
// file and gives up to three examples.
func CrossCheck(reports []*Report) []*RecordError {
	byKind := map[Kind]*Report{}
	for _, r := range reports {
		if r.refs != nil && byKind[r.Kind] == nil {
			byKind[r.Kind] = r
		}
	}
	var out []*RecordError
	add := func(r *Report, bad []string, what string) {
		if len(bad) == 0 {
			return
		}
		ex := bad[:min(3, len(bad))]
		out = append(out, &RecordError{File: r.Path,
			Msg: fmt.Sprintf("%d %s (e.g. %s)", len(bad), what, strings.Join(quoteAll(ex), ", "))})
	}
	set := func(ids []string) map[string]struct{} {
		m := make(map[string]struct{}, len(ids))
		for _, id := range ids {
			m[id] = struct{}{}
		}
		return m
	}
	for _, k := range []Kind{Conversations, Summaries, Clusters, MetaClusters, Dimensionality} {
		r := byKind[k]
		if r == nil {
			continue
		}
		seen := make(map[string]struct{}, len(r.refs.ids))
		var dups []string
		for _, id := range r.refs.ids {
			if _, ok := seen[id]; ok {
				dups = append(dups, id)
			}
			seen[id] = struct{}{}
		}
		name := "chat ids"
		if k != Conversations && k != Summaries {
			name = "cluster ids"
		}
		add(r, dups, "duplicate "+name)
	}
	var known map[string]struct{}
	knownFrom := ""
	if c := byKind[Conversations]; c != nil {
		known, knownFrom = set(c.refs.ids), c.Path
	}
	if s := byKind[Summaries]; s != nil && known != nil {
		var bad []string
		for _, id := range s.refs.ids {
			if _, ok := known[id]; !ok {
				bad = append(bad, id)
			}
		}
		add(s, bad, "summaries of chat ids not in "+knownFrom)
	}
	if s := byKind[Summaries]; s != nil {
		known, knownFrom = set(s.refs.ids), s.Path
	}
	clusterIDs := map[string]struct{}{}
	for _, k := range []Kind{Clusters, MetaClusters, Dimensionality} {
		if r := byKind[k]; r != nil {
			for _, id := range r.refs.ids {
				clusterIDs[id] = struct{}{}
			}
		}
	}
	for _, k := range []Kind{Clusters, MetaClusters, Dimensionality} {
		r := byKind[k]
		if r == nil {
			continue
		}
		if known != nil {
			var bad []string
			for id := range r.refs.members {
				if _, ok := known[id]; !ok {
					bad = append(bad, id)
				}
			}
			slices.Sort(bad)
			add(r, bad, "chat ids listed by clusters but not in "+knownFrom)
		}
		var bad []string
		for _, p := range r.refs.parents {
			if _, ok := clusterIDs[p]; !ok {
				bad = append(bad, p)
			}
		}
		add(r, bad, "parent ids that name no cluster of the checkpoint")
	}
	return out
}

func quoteAll(s []string) []string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return q
}
