package conversation

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kura-go/kura/internal/human"
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
	r.members = append(r.members, c.ChatIDs...)
}

// sortedSet returns the distinct values of ids in order, and the values
// that occur more than once (each once, in order). It sorts a copy: sorted
// slices take a fraction of the memory of maps at millions of ids.
func sortedSet(ids []string) (set, repeated []string) {
	set = slices.Clone(ids)
	slices.Sort(set)
	w := 0
	for i, id := range set {
		if i > 0 && id == set[w-1] {
			if len(repeated) == 0 || repeated[len(repeated)-1] != id {
				repeated = append(repeated, id)
			}
			continue
		}
		set[w] = id
		w++
	}
	return set[:w], repeated
}

// missing returns the values of ids (in their order, repeats kept once)
// that are not in the sorted set known.
func missing(ids, known []string) []string {
	var bad []string
	for _, id := range ids {
		if _, ok := slices.BinarySearch(known, id); !ok {
			bad = append(bad, id)
		}
	}
	return bad
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
	// add reports bad under the noun phrase for one and for many.
	add := func(r *Report, bad []string, one, many string) {
		if len(bad) == 0 {
			return
		}
		ex := bad[:min(3, len(bad))]
		out = append(out, &RecordError{File: r.Path,
			Msg: fmt.Sprintf("%s (e.g. %s)", human.Count(int64(len(bad)), one, many), strings.Join(quoteAll(ex), ", "))})
	}
	for _, k := range []Kind{Conversations, Summaries, Clusters, MetaClusters, Dimensionality} {
		r := byKind[k]
		if r == nil {
			continue
		}
		_, dups := sortedSet(r.refs.ids)
		name := "chat id"
		if k != Conversations && k != Summaries {
			name = "cluster id"
		}
		add(r, dups, "duplicate "+name, "duplicate "+name+"s")
	}
	var known []string // sorted chat ids that clusters and summaries may refer to
	knownFrom := ""
	if c := byKind[Conversations]; c != nil {
		known, _ = sortedSet(c.refs.ids)
		knownFrom = c.Path
	}
	if s := byKind[Summaries]; s != nil && known != nil {
		add(s, missing(s.refs.ids, known), "summary of a chat id not in "+knownFrom, "summaries of chat ids not in "+knownFrom)
	}
	if s := byKind[Summaries]; s != nil {
		known, _ = sortedSet(s.refs.ids)
		knownFrom = s.Path
	}
	var clusterIDs []string
	for _, k := range []Kind{Clusters, MetaClusters, Dimensionality} {
		if r := byKind[k]; r != nil {
			clusterIDs = append(clusterIDs, r.refs.ids...)
		}
	}
	clusterIDs, _ = sortedSet(clusterIDs)
	for _, k := range []Kind{Clusters, MetaClusters, Dimensionality} {
		r := byKind[k]
		if r == nil {
			continue
		}
		if known != nil {
			members, _ := sortedSet(r.refs.members)
			add(r, missing(members, known), "chat id listed by clusters but not in "+knownFrom, "chat ids listed by clusters but not in "+knownFrom)
		}
		add(r, missing(r.refs.parents, clusterIDs), "parent id that names no cluster of the checkpoint", "parent ids that name no cluster of the checkpoint")
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
