package pipeline

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"golang.org/x/text/width"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/internal/human"
)

// Tree is a cluster hierarchy ready to show.
type Tree struct {
	Roots    []*TreeNode
	Total    int // conversations under the roots
	Clusters int // clusters in the tree
	Base     int // clusters without children
}

// TreeNode is one cluster of a Tree; children are sorted by size.
type TreeNode struct {
	Cluster  conversation.Cluster
	Children []*TreeNode
	Noise    bool // the unclustered group
}

// Count is the number of conversations of the node.
func (n *TreeNode) Count() int { return len(n.Cluster.ChatIDs) }

// BuildTree links clusters by parent id. Children (and roots) are sorted
// by size, largest first, then by name; the unclustered group comes last.
// A parent id naming no cluster, or a cycle, is an error.
func BuildTree(cs []conversation.Cluster) (*Tree, error) {
	if _, err := levels(cs); err != nil {
		return nil, err
	}
	nodes := make(map[string]*TreeNode, len(cs))
	t := &Tree{Clusters: len(cs)}
	for _, c := range cs {
		if _, dup := nodes[c.ID]; dup {
			return nil, fmt.Errorf("cluster id %s appears twice", c.ID)
		}
		nodes[c.ID] = &TreeNode{Cluster: c, Noise: c.Slug == NoiseSlug}
	}
	for _, c := range cs {
		n := nodes[c.ID]
		if c.ParentID == nil {
			t.Roots = append(t.Roots, n)
			t.Total += n.Count()
		} else {
			p := nodes[*c.ParentID]
			p.Children = append(p.Children, n)
		}
	}
	var sortNodes func([]*TreeNode)
	sortNodes = func(ns []*TreeNode) {
		sort.SliceStable(ns, func(i, j int) bool {
			if ns[i].Noise != ns[j].Noise {
				return !ns[i].Noise
			}
			if ns[i].Count() != ns[j].Count() {
				return ns[i].Count() > ns[j].Count()
			}
			return ns[i].Cluster.Name < ns[j].Cluster.Name
		})
		for _, n := range ns {
			if len(n.Children) == 0 {
				t.Base++
			}
			sortNodes(n.Children)
		}
	}
	sortNodes(t.Roots)
	return t, nil
}

// RenderOptions control Tree.Render.
type RenderOptions struct {
	Depth int // levels shown; 0 = all
	Width int // columns; 0 = 80
}

// Render writes the tree: a header, then one line per cluster with its
// count, share of all conversations and a bar scaled to the largest root.
// No line is wider than Width columns (East Asian wide characters count
// two); long names are cut with "…".
func (t *Tree) Render(w io.Writer, o RenderOptions) {
	if o.Width <= 0 {
		o.Width = 80
	}
	k := human.Thousands
	fmt.Fprintf(w, "%s conversations in %s clusters (%s base clusters, %s at the top)\n", k(t.Total), k(t.Clusters), k(t.Base), k(len(t.Roots)))
	biggest := 1
	for _, r := range t.Roots {
		biggest = max(biggest, r.Count())
	}
	const barCells = 10
	// Counts with thousands separators, in a column as wide as the total's
	// (at least 7).
	cw := max(7, len(k(t.Total)))
	right := 1 + cw + 1 + 6 + 1 + barCells // " count share bar"
	var walk func(ns []*TreeNode, prefix string, depth int)
	walk = func(ns []*TreeNode, prefix string, depth int) {
		for i, n := range ns {
			branch, more := "", ""
			if depth > 0 {
				branch, more = "├─ ", "│  "
				if i == len(ns)-1 {
					branch, more = "└─ ", "   "
				}
			}
			name := n.Cluster.Name
			if n.Noise && !strings.Contains(strings.ToLower(name), "unclustered") {
				name = "(unclustered) " + name
			}
			room := o.Width - right - displayWidth(prefix+branch)
			name = fitWidth(name, room)
			pad := room - displayWidth(name)
			share := 0.0
			if t.Total > 0 {
				share = 100 * float64(n.Count()) / float64(t.Total)
			}
			line := fmt.Sprintf("%s%s%s%s %*s %5.1f%% %s", prefix, branch, name, strings.Repeat(" ", max(0, pad)),
				cw, k(n.Count()), share, bar(float64(n.Count())/float64(biggest), barCells))
			fmt.Fprintln(w, strings.TrimRight(line, " "))
			if o.Depth == 0 || depth+1 < o.Depth {
				walk(n.Children, prefix+more, depth+1)
			}
		}
	}
	walk(t.Roots, "", 0)
}

// bar draws frac (0..1) of cells with eighth blocks.
func bar(frac float64, cells int) string {
	eighths := int(math.Round(math.Max(0, math.Min(1, frac)) * float64(cells*8)))
	if eighths == 0 && frac > 0 {
		eighths = 1
	}
	parts := []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}
	s := strings.Repeat("█", eighths/8) + parts[eighths%8]
	return s + strings.Repeat(" ", cells-eighths/8-min(1, eighths%8))
}

func runeWidth(r rune) int {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// fitWidth cuts s to at most w columns, ending a cut with "…".
func fitWidth(s string, w int) string {
	s = strings.Join(strings.Fields(s), " ")
	if displayWidth(s) <= w {
		return s
	}
	if w <= 1 {
		return strings.Repeat("…", max(0, w))
	}
	n := 0
	var b strings.Builder
	for _, r := range s {
		if n+runeWidth(r) > w-1 {
			break
		}
		n += runeWidth(r)
		b.WriteRune(r)
	}
	return strings.TrimRight(b.String(), " ") + "…"
}

// JSONNode is a tree node as JSON.
type JSONNode struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Slug        string      `json:"slug"`
	Count       int         `json:"count"`
	Share       float64     `json:"share"`
	Unclustered bool        `json:"unclustered,omitempty"`
	Children    []*JSONNode `json:"children"`
}

// JSONTree is the tree as JSON.
type JSONTree struct {
	Conversations int         `json:"conversations"`
	Clusters      int         `json:"clusters"`
	Roots         []*JSONNode `json:"roots"`
}

// JSON returns the tree to depth levels (0: all) as JSON-ready values.
func (t *Tree) JSON(depth int) *JSONTree {
	var conv func(ns []*TreeNode, d int) []*JSONNode
	conv = func(ns []*TreeNode, d int) []*JSONNode {
		out := []*JSONNode{}
		for _, n := range ns {
			j := &JSONNode{ID: n.Cluster.ID, Name: n.Cluster.Name, Description: n.Cluster.Description, Slug: n.Cluster.Slug,
				Count: n.Count(), Unclustered: n.Noise, Children: []*JSONNode{}}
			if t.Total > 0 {
				j.Share = float64(n.Count()) / float64(t.Total)
			}
			if depth == 0 || d+1 < depth {
				j.Children = conv(n.Children, d+1)
			}
			out = append(out, j)
		}
		return out
	}
	return &JSONTree{Conversations: t.Total, Clusters: t.Clusters, Roots: conv(t.Roots, 0)}
}
