package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/internal/parallel"
	"github.com/kura-go/kura/llm"
)

// HierarchyOptions choose how base clusters are grouped under parents.
type HierarchyOptions struct {
	// Method is "agglomerative" (offline: average linkage on the cosine of
	// centroids, keyword names) or "llm".
	Method string
	// MaxTopClusters is the most roots the hierarchy may have (default 10);
	// the unclustered group, when there is one, counts as one.
	MaxTopClusters int
	// Branching is how many times fewer clusters each level has than the
	// one below (default 4), until MaxTopClusters is reached.
	Branching int
	// MaxLevels caps the levels the LLM builds (default 8); if more would
	// be needed, the last level is made offline, so the stage always ends.
	MaxLevels int
	// NeighbourhoodSize is the number of similar clusters shown to the
	// model together when it proposes parents (default 10).
	NeighbourhoodSize int
}

func (o HierarchyOptions) withDefaults() HierarchyOptions {
	if o.Method == "" {
		o.Method = "agglomerative"
	}
	if o.MaxTopClusters <= 0 {
		o.MaxTopClusters = 10
	}
	if o.Branching < 2 {
		o.Branching = 4
	}
	if o.MaxLevels <= 0 {
		o.MaxLevels = 8
	}
	if o.NeighbourhoodSize < 2 {
		o.NeighbourhoodSize = 10
	}
	return o
}

func (o HierarchyOptions) params(m ChatModel) map[string]string {
	o = o.withDefaults()
	p := map[string]string{"method": o.Method, "max_top_clusters": itoa(o.MaxTopClusters), "branching": itoa(o.Branching)}
	if o.Method == "llm" {
		p["model"] = m.Model()
		p["temperature"] = ftoa(m.Temperature())
		p["prompt"] = shortHash(hierSystem + proposeInstructions + consolidateInstructions + assignInstructions + renameInstructions)
		p["max_levels"] = itoa(o.MaxLevels)
		p["neighbourhood"] = itoa(o.NeighbourhoodSize)
	}
	return p
}

// node is a cluster of the hierarchy under construction.
type node struct {
	c        conversation.Cluster
	members  []int // summary indices
	centroid []float32
	noise    bool
}

type hierarchy struct {
	o     HierarchyOptions
	m     ChatModel
	sums  []conversation.ConversationSummary
	x     []float32
	d     int
	nodes []*node
	st    *StageStats
	mu    sync.Mutex
	item  func()
}

// buildHierarchy groups the base clusters under parents until at most
// MaxTopClusters roots remain, and returns every cluster (parents first
// by level from the roots down, then the base clusters), with parent ids.
// No parent has a single child.
func buildHierarchy(ctx context.Context, o HierarchyOptions, m ChatModel, sums []conversation.ConversationSummary, x []float32, d int,
	base []conversation.Cluster, st *StageStats, onItem func()) ([]conversation.Cluster, error) {
	o = o.withDefaults()
	h := &hierarchy{o: o, m: m, sums: sums, x: x, d: d, st: st, item: onItem}
	index := make(map[string]int, len(sums))
	for i := range sums {
		index[sums[i].ChatID] = i
	}
	var current []int // roots so far (topic clusters only)
	var noise []int
	for _, c := range base {
		n := &node{c: c, noise: c.Slug == NoiseSlug}
		n.c.ParentID = nil
		for _, id := range c.ChatIDs {
			i, ok := index[id]
			if !ok {
				return nil, fmt.Errorf("cluster %s lists chat id %q, which has no summary", c.ID, id)
			}
			n.members = append(n.members, i)
		}
		n.centroid = centroid(x, d, n.members)
		h.nodes = append(h.nodes, n)
		if n.noise {
			noise = append(noise, len(h.nodes)-1)
		} else {
			current = append(current, len(h.nodes)-1)
		}
	}
	limit := max(1, o.MaxTopClusters-len(noise))
	var levels [][]int // parents made at each level
	for level := 0; len(current) > limit; level++ {
		target := max(limit, (len(current)+o.Branching-1)/o.Branching)
		var groups [][]int
		var err error
		if o.Method == "llm" && level < o.MaxLevels {
			groups, err = h.llmGroups(ctx, current, target)
			if err != nil {
				return nil, err
			}
		}
		if !shrinks(groups, len(current)) {
			groups = h.agglomerate(current, target)
		}
		next, made, err := h.makeParents(ctx, groups)
		if err != nil {
			return nil, err
		}
		levels = append(levels, made)
		current = next
		if level > 64 {
			return nil, errors.New("hierarchy: too many levels (internal error)")
		}
	}
	// Parents from the top level down, then base clusters: as Kura lists them.
	var out []conversation.Cluster
	for l := len(levels) - 1; l >= 0; l-- {
		for _, i := range levels[l] {
			out = append(out, h.nodes[i].c)
		}
	}
	for i := range base {
		out = append(out, h.nodes[i].c)
	}
	return out, nil
}

// shrinks reports whether groups make fewer clusters than n.
func shrinks(groups [][]int, n int) bool { return len(groups) > 0 && len(groups) < n }

// agglomerate groups the nodes into target groups by average linkage on
// the cosine distance of their centroids.
func (h *hierarchy) agglomerate(nodes []int, target int) [][]int {
	vecs := make([][]float32, len(nodes))
	for i, n := range nodes {
		vecs[i] = h.nodes[n].centroid
	}
	labels := cutTree(len(nodes), averageLinkage(vecs), target)
	return byLabel(nodes, labels)
}

func byLabel(nodes, labels []int) [][]int {
	k := 0
	for _, l := range labels {
		k = max(k, l+1)
	}
	groups := make([][]int, k)
	for i, l := range labels {
		groups[l] = append(groups[l], nodes[i])
	}
	return groups
}

// makeParents turns each group of two or more nodes into a parent; a
// group of one passes up unchanged. It returns the next level's roots and
// the parents made.
func (h *hierarchy) makeParents(ctx context.Context, groups [][]int) (next, made []int, err error) {
	kids := map[int][]int{}
	for _, g := range groups {
		if len(g) == 1 {
			next = append(next, g[0])
			continue
		}
		p := &node{}
		var ids []string
		for _, c := range g {
			p.members = append(p.members, h.nodes[c].members...)
			ids = append(ids, h.nodes[c].c.ID)
		}
		p.c.ID = clusterID("parent", ids)
		p.c.ChatIDs = chatIDsOf(h.sums, p.members)
		p.centroid = centroid(h.x, h.d, p.members)
		h.nodes = append(h.nodes, p)
		pi := len(h.nodes) - 1
		for _, c := range g {
			id := p.c.ID
			h.nodes[c].c.ParentID = &id
		}
		next = append(next, pi)
		made = append(made, pi)
		kids[pi] = g
	}
	children := func(pi int) []int { return kids[pi] }
	if h.o.Method == "llm" {
		if err := h.llmRename(ctx, made, children); err != nil {
			return nil, nil, err
		}
	} else {
		h.keywordRename(next, made, children)
	}
	return next, made, nil
}

// keywordRename names the new parents by c-TF-IDF against every cluster
// of their level.
func (h *hierarchy) keywordRename(level, made []int, children func(int) []int) {
	docs := make([][]string, len(level))
	for i, n := range level {
		for _, m := range h.nodes[n].members {
			docs[i] = append(docs[i], docText(&h.sums[m]))
		}
	}
	kw := Keywords(docs, 6)
	for i, n := range level {
		if !slices.Contains(made, n) {
			continue
		}
		p := &h.nodes[n].c
		p.Name, p.Slug = keywordName(kw[i])
		var names []string
		for _, c := range children(n) {
			names = append(names, h.nodes[c].c.Name)
		}
		p.Description = fmt.Sprintf("%d conversations in %d clusters: %s.", len(p.ChatIDs), len(names), strings.Join(names, "; "))
		h.item()
	}
}

const hierSystem = `You organise named groups of conversations between users and an AI
assistant into a hierarchy of broader groups. Names are imperative sentences
of at most ten words. Do not include personal data. Answer with JSON only.`

const proposeInstructions = `The user sends groups of conversations that resemble each other.
Propose at most %d broader groups that they could be sorted into. Each name
must be general enough to hold several of the groups, yet specific enough to
be useful, e.g. "Help debug and write Python code".`

const consolidateInstructions = `The user sends proposed names for broad groups of conversations.
Merge names that mean the same or overlap much, and return at most %d
distinct names that together cover all of them.`

const assignInstructions = `The user sends a group of conversations and a list of broader
groups. Answer with the name of the broader group it belongs to, exactly as
written.`

const renameInstructions = `The user sends groups of conversations that were put together under
one broader group. Describe the broader group:
- description: two sentences in the past tense saying what the users in all
  these groups asked for.
- name: at most ten words, an imperative sentence, covering every group.
- slug: two to four lower-case words joined by underscores.`

// namesSchema asks for 1..maxItems names (at least 2 when allowed, since
// one parent for everything is no hierarchy).
func namesSchema(maxItems int) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"object","properties":{"names":{"type":"array","items":{"type":"string"},"minItems":%d,"maxItems":%d}},"required":["names"],"additionalProperties":false}`, min(2, maxItems), maxItems))
}

type namesAnswer struct {
	Names []string `json:"names"`
}

func (h *hierarchy) describe(nodes []int) string {
	var b strings.Builder
	for _, n := range nodes {
		c := h.nodes[n].c
		fmt.Fprintf(&b, "- %s: %s\n", c.Name, strings.Join(strings.Fields(c.Description), " "))
	}
	return strings.TrimRight(b.String(), "\n")
}

func (h *hierarchy) call(ctx context.Context, req llm.Request, out any, check func() error) error {
	u, err := h.m.JSON(ctx, req, out, check)
	h.mu.Lock()
	h.st.addLLM(u)
	h.mu.Unlock()
	return err
}

// llmGroups asks the model to group the nodes into about target groups:
// neighbourhoods of similar clusters propose parent names, the names are
// consolidated to at most target, and each cluster is assigned to one.
func (h *hierarchy) llmGroups(ctx context.Context, current []int, target int) ([][]int, error) {
	hoods := h.agglomerate(current, max(1, (len(current)+h.o.NeighbourhoodSize-1)/h.o.NeighbourhoodSize))
	proposals := make([][]string, len(hoods))
	err := h.parallel(ctx, len(hoods), func(ctx context.Context, i int) error {
		want := max(1, (target*len(hoods[i])+len(current)-1)/len(current))
		var a namesAnswer
		req := llm.Request{System: hierSystem + "\n\n" + fmt.Sprintf(proposeInstructions, want), User: "<groups>\n" + h.describe(hoods[i]) + "\n</groups>",
			SchemaName: "parent_names", Schema: namesSchema(want), MaxTokens: 600}
		if err := h.call(ctx, req, &a, func() error { return nonEmptyNames(a.Names) }); err != nil {
			return fmt.Errorf("proposing parents: %w", err)
		}
		proposals[i] = a.Names
		return nil
	})
	if err != nil {
		return nil, err
	}
	var names []string
	seen := map[string]bool{}
	for _, p := range proposals {
		for _, n := range p {
			n = strings.Join(strings.Fields(n), " ")
			if k := strings.ToLower(n); n != "" && !seen[k] {
				seen[k] = true
				names = append(names, n)
			}
		}
	}
	if len(names) > target {
		var a namesAnswer
		req := llm.Request{System: hierSystem + "\n\n" + fmt.Sprintf(consolidateInstructions, target), User: "<names>\n- " + strings.Join(names, "\n- ") + "\n</names>",
			SchemaName: "parent_names", Schema: namesSchema(target), MaxTokens: 1000}
		if err := h.call(ctx, req, &a, func() error { return nonEmptyNames(a.Names) }); err != nil {
			return nil, fmt.Errorf("consolidating parents: %w", err)
		}
		names = names[:0]
		clear(seen)
		for _, n := range a.Names {
			n = strings.Join(strings.Fields(n), " ")
			if k := strings.ToLower(n); n != "" && !seen[k] && len(names) < target {
				seen[k] = true
				names = append(names, n)
			}
		}
	}
	if len(names) < 2 {
		return nil, nil // no useful proposal: the caller falls back to agglomeration
	}
	enum, _ := json.Marshal(names)
	schema := json.RawMessage(fmt.Sprintf(`{"type":"object","properties":{"group":{"type":"string","enum":%s}},"required":["group"],"additionalProperties":false}`, enum))
	choice := make([]int, len(current))
	err = h.parallel(ctx, len(current), func(ctx context.Context, i int) error {
		var a struct {
			Group string `json:"group"`
		}
		req := llm.Request{System: hierSystem + "\n\n" + assignInstructions,
			User:       "<group>\n" + h.describe(current[i:i+1]) + "\n</group>\n\n<broader_groups>\n- " + strings.Join(names, "\n- ") + "\n</broader_groups>",
			SchemaName: "parent_choice", Schema: schema, MaxTokens: 200}
		check := func() error {
			if j := slices.Index(names, a.Group); j >= 0 {
				choice[i] = j
				return nil
			}
			return fmt.Errorf("%q is not one of the offered groups", a.Group)
		}
		if err := h.call(ctx, req, &a, check); err != nil {
			return fmt.Errorf("assigning %q to a parent: %w", h.nodes[current[i]].c.Name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	groups := byLabel(current, choice)
	return slices.DeleteFunc(groups, func(g []int) bool { return len(g) == 0 }), nil
}

func nonEmptyNames(names []string) error {
	for _, n := range names {
		if strings.TrimSpace(n) != "" {
			return nil
		}
	}
	return errors.New("no names")
}

// llmRename names each new parent from its children.
func (h *hierarchy) llmRename(ctx context.Context, made []int, children func(int) []int) error {
	kids := make([][]int, len(made))
	for i, p := range made {
		kids[i] = children(p)
	}
	return h.parallel(ctx, len(made), func(ctx context.Context, i int) error {
		var a nameAnswer
		req := llm.Request{System: hierSystem + "\n\n" + renameInstructions, User: "<groups>\n" + h.describe(kids[i]) + "\n</groups>",
			SchemaName: "parent_name", Schema: nameSchema, MaxTokens: 400}
		if err := h.call(ctx, req, &a, a.check); err != nil {
			return fmt.Errorf("naming a parent cluster: %w", err)
		}
		nm := a.named()
		p := &h.nodes[made[i]].c
		h.mu.Lock()
		p.Name, p.Description, p.Slug = nm.name, nm.description, nm.slug
		h.mu.Unlock()
		h.item()
		return nil
	})
}

// parallel runs f(0..n-1) concurrently (the client bounds the requests in
// flight) and returns the first error.
func (h *hierarchy) parallel(ctx context.Context, n int, f func(context.Context, int) error) error {
	return parallel.Each(ctx, n, maxLLMCalls, f)
}
