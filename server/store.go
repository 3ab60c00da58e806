package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"sort"
	"strings"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/pipeline"
)

// CoordinateFiles are the names of a conversation-level map file read when
// present (first found wins): JSONL, one {"chat_id", "x_coord", "y_coord"}
// (or "x", "y") object per line. The first is what `kura run` writes.
var CoordinateFiles = []string{
	pipeline.ConversationMapName, "conversation_coordinates.jsonl", "conversation_coords.jsonl", "conversations_2d.jsonl",
	"conversation_map.jsonl", "projected_conversations.jsonl",
}

// Map modes: where the conversations' points come from.
const (
	MapConversations  = "conversations"   // a conversation-level coordinates file
	MapAroundClusters = "around-clusters" // placed around their leaf cluster's point
	MapClusters       = "clusters"        // cluster points only (no conversations known)
	MapNone           = "none"            // no coordinates at all
)

// node is one cluster of the hierarchy.
type node struct {
	ID          string
	Name        string
	Description string
	Slug        string
	Parent      int // index, -1 for a root
	Children    []int
	ChatIDs     []string
	Depth       int
	X, Y        float64
	HasXY       bool
	Root        int // index of its root
}

// conv is one conversation: its transcript and summary when the files have
// them, its leaf cluster and its map position.
type conv struct {
	ID      string
	Conv    *conversation.Conversation
	Summary *conversation.ConversationSummary
	Leaf    int // cluster index, -1 when in no cluster
	X, Y    float64
	HasXY   bool
}

// store is a checkpoint directory loaded into memory.
type store struct {
	Files     map[string]string // kind name -> file name used
	Nodes     []node
	Roots     []int
	byID      map[string]int
	Convs     []conv
	convIndex map[string]int
	Total     int // conversations known (the denominator of shares)
	MapMode   string
	MapNote   string
	Problems  []*fileProblems
}

func (s *store) problems(file string) *fileProblems {
	p := &fileProblems{File: file}
	s.Problems = append(s.Problems, p)
	return p
}

// load reads the checkpoint files found in root. Problems with files are
// collected, never fatal: the page shows them beside what could be read.
func load(root *os.Root) (*store, error) {
	names, err := listDir(root)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	s := &store{Files: map[string]string{}, byID: map[string]int{}, convIndex: map[string]int{}}
	for _, k := range conversation.Kinds {
		if n := findKind(have, k); n != "" {
			s.Files[k.String()] = n
		}
	}

	// The hierarchy: meta_clusters (every level) or else clusters (leaves);
	// dimensionality has the same clusters with their map positions.
	var clusters []conversation.Cluster
	var projected []conversation.ProjectedCluster
	if n := s.Files["dimensionality"]; n != "" {
		projected = readRecords[conversation.ProjectedCluster](root, n, s.problems(n))
	}
	switch {
	case s.Files["meta_clusters"] != "":
		n := s.Files["meta_clusters"]
		clusters = readRecords[conversation.Cluster](root, n, s.problems(n))
	case s.Files["clusters"] != "":
		n := s.Files["clusters"]
		clusters = readRecords[conversation.Cluster](root, n, s.problems(n))
	}
	if len(clusters) == 0 {
		for _, p := range projected {
			clusters = append(clusters, p.Cluster)
		}
	}
	s.buildTree(clusters, projected)

	if n := s.Files["summaries"]; n != "" {
		for _, sm := range readRecords[conversation.ConversationSummary](root, n, s.problems(n)) {
			sm.Embedding = nil // not shown; can be large
			c := s.conv(sm.ChatID)
			c.Summary = &sm
		}
	}
	if n := s.Files["conversations"]; n != "" {
		for _, cv := range readRecords[conversation.Conversation](root, n, s.problems(n)) {
			c := s.conv(cv.ChatID)
			c.Conv = &cv
		}
	}
	// Conversations named only by clusters still get an entry (and a point).
	for i := range s.Nodes {
		if len(s.Nodes[i].Children) == 0 {
			for _, id := range s.Nodes[i].ChatIDs {
				c := s.conv(id)
				if c.Leaf < 0 {
					c.Leaf = i
				}
			}
		}
	}
	s.Total = len(s.Convs)
	s.place(root, have)
	// Drop problem lists of files that had none.
	kept := s.Problems[:0]
	for _, p := range s.Problems {
		if p.Count > 0 {
			kept = append(kept, p)
		}
	}
	s.Problems = kept
	return s, nil
}

// conv returns the entry of a chat id, adding it when new.
func (s *store) conv(id string) *conv {
	i, ok := s.convIndex[id]
	if !ok {
		i = len(s.Convs)
		s.convIndex[id] = i
		s.Convs = append(s.Convs, conv{ID: id, Leaf: -1})
	}
	return &s.Convs[i]
}

func (s *store) buildTree(clusters []conversation.Cluster, projected []conversation.ProjectedCluster) {
	var parents []*string
	for _, c := range clusters {
		if _, dup := s.byID[c.ID]; dup {
			continue
		}
		s.byID[c.ID] = len(s.Nodes)
		s.Nodes = append(s.Nodes, node{ID: c.ID, Name: c.Name, Description: c.Description, Slug: c.Slug, ChatIDs: c.ChatIDs, Parent: -1})
		parents = append(parents, c.ParentID)
	}
	for _, p := range projected {
		if i, ok := s.byID[p.ID]; ok {
			s.Nodes[i].X, s.Nodes[i].Y, s.Nodes[i].HasXY = p.XCoord, p.YCoord, true
		}
	}
	for i, pid := range parents {
		if pid == nil {
			continue
		}
		if p, ok := s.byID[*pid]; ok && p != i {
			s.Nodes[i].Parent = p
		}
	}
	// Break cycles (a malformed file): a node whose ancestors reach itself
	// becomes a root.
	for i := range s.Nodes {
		seen := map[int]bool{i: true}
		for p := s.Nodes[i].Parent; p >= 0; p = s.Nodes[p].Parent {
			if seen[p] {
				s.Nodes[i].Parent = -1
				break
			}
			seen[p] = true
		}
	}
	for i := range s.Nodes {
		if p := s.Nodes[i].Parent; p >= 0 {
			s.Nodes[p].Children = append(s.Nodes[p].Children, i)
		} else {
			s.Roots = append(s.Roots, i)
		}
	}
	bySize := func(ids []int) {
		sort.SliceStable(ids, func(a, b int) bool { return len(s.Nodes[ids[a]].ChatIDs) > len(s.Nodes[ids[b]].ChatIDs) })
	}
	bySize(s.Roots)
	var walk func(i, depth, root int)
	walk = func(i, depth, root int) {
		s.Nodes[i].Depth, s.Nodes[i].Root = depth, root
		bySize(s.Nodes[i].Children)
		for _, c := range s.Nodes[i].Children {
			walk(c, depth+1, root)
		}
	}
	for _, r := range s.Roots {
		walk(r, 0, r)
	}
}

// place gives every conversation its map position.
func (s *store) place(root *os.Root, have map[string]bool) {
	for _, name := range CoordinateFiles {
		if !have[name] {
			continue
		}
		probs := s.problems(name)
		n := s.readCoordinates(root, name, probs)
		if n > 0 {
			s.MapMode = MapConversations
			s.MapNote = fmt.Sprintf("Each point is a conversation at its own map position (%s).", name)
			if missing := s.Total - n; missing > 0 {
				s.MapNote += fmt.Sprintf(" %d conversations have no position in that file and are not drawn.", missing)
			}
			return
		}
	}
	var leaves []int
	for i := range s.Nodes {
		if len(s.Nodes[i].Children) == 0 && s.Nodes[i].HasXY {
			leaves = append(leaves, i)
		}
	}
	if len(leaves) == 0 {
		s.MapMode = MapNone
		s.MapNote = "This directory has no map coordinates (no dimensionality file with cluster positions, no conversation-level coordinates file), so there is no map."
		return
	}
	if s.Total == 0 {
		s.MapMode = MapClusters
		s.MapNote = "Clusters only: no conversations are known, so each point is a cluster."
		return
	}
	// Around clusters: each conversation on a disc around its leaf cluster's
	// point, at an angle and radius drawn from a hash of its chat id (so the
	// layout is stable), the disc's radius a third of the distance to the
	// nearest other leaf.
	radius := make(map[int]float64, len(leaves))
	for _, i := range leaves {
		best := math.Inf(1)
		for _, j := range leaves {
			if i != j {
				best = math.Min(best, math.Hypot(s.Nodes[i].X-s.Nodes[j].X, s.Nodes[i].Y-s.Nodes[j].Y))
			}
		}
		if math.IsInf(best, 1) || best == 0 {
			best = 1
		}
		radius[i] = best / 3
	}
	placed := 0
	for k := range s.Convs {
		c := &s.Convs[k]
		if c.Leaf < 0 || !s.Nodes[c.Leaf].HasXY {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(c.ID))
		v := mix64(h.Sum64())
		angle := float64(v&0xffffffff) / (1 << 32) * 2 * math.Pi
		r := radius[c.Leaf] * math.Sqrt(float64(v>>32)/(1<<32))
		c.X, c.Y, c.HasXY = s.Nodes[c.Leaf].X+r*math.Cos(angle), s.Nodes[c.Leaf].Y+r*math.Sin(angle), true
		placed++
	}
	s.MapMode = MapAroundClusters
	s.MapNote = "This checkpoint has no conversation-level coordinates: each conversation is drawn on a small disc around its cluster's map point (its place on the disc is arbitrary, only the cluster's position is real)."
	if missing := s.Total - placed; missing > 0 {
		s.MapNote += fmt.Sprintf(" %d conversations are in no cluster with a position and are not drawn.", missing)
	}
}

// readCoordinates reads a conversation-level coordinates file and returns
// how many conversations got a position.
func (s *store) readCoordinates(root *os.Root, name string, probs *fileProblems) int {
	f, err := root.Open(name)
	if err != nil {
		probs.add(describeOpenError(name, err))
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line, n := 0, 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var rec struct {
			ChatID *string  `json:"chat_id"`
			XCoord *float64 `json:"x_coord"`
			YCoord *float64 `json:"y_coord"`
			X      *float64 `json:"x"`
			Y      *float64 `json:"y"`
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			probs.add(fmt.Sprintf("%s:%d: %v", name, line, err))
			continue
		}
		x, y := rec.XCoord, rec.YCoord
		if x == nil || y == nil {
			x, y = rec.X, rec.Y
		}
		switch {
		case rec.ChatID == nil || *rec.ChatID == "":
			probs.add(fmt.Sprintf("%s:%d: field chat_id: missing", name, line))
		case x == nil || y == nil:
			probs.add(fmt.Sprintf("%s:%d: field x_coord/y_coord: missing", name, line))
		default:
			c := s.conv(*rec.ChatID)
			if !c.HasXY {
				n++
			}
			c.X, c.Y, c.HasXY = *x, *y, true
		}
	}
	if err := sc.Err(); err != nil {
		probs.add(fmt.Sprintf("%s:%d: %v", name, line+1, err))
	}
	s.Total = len(s.Convs)
	return n
}

// mix64 is SplitMix64's finaliser: it spreads FNV's similar hashes of
// similar chat ids over all 64 bits.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
