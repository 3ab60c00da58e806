package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/kura-go/kura/conversation"
)

// Average linkage against R's hclust(method = "average") (testdata/agglo_ref.R):
// the same merge heights (to 1e-9) and the same partitions when cut into
// 1..12 groups.
func TestAverageLinkageMatchesR(t *testing.T) {
	b, err := os.ReadFile("testdata/agglo_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Vectors [][]float64 `json:"vectors"`
		Heights []float64   `json:"heights"`
		Cuts    [][]int     `json:"cuts"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	vecs := make([][]float32, len(ref.Vectors))
	for i, v := range ref.Vectors {
		for _, f := range v {
			vecs[i] = append(vecs[i], float32(f))
		}
	}
	merges := averageLinkage(vecs)
	if len(merges) != len(ref.Heights) {
		t.Fatalf("%d merges, want %d", len(merges), len(ref.Heights))
	}
	for i, m := range merges {
		if diff(m.h, ref.Heights[i]) > 1e-6 { // float32 inputs
			t.Errorf("merge %d at %.9f, R %.9f", i, m.h, ref.Heights[i])
		}
	}
	for k, want := range ref.Cuts {
		got := cutTree(len(vecs), merges, k+1)
		if !samePartition(got, want) {
			t.Errorf("cut into %d groups: %v, R %v", k+1, got, want)
		}
	}
}

func samePartition(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	ab, ba := map[int]int{}, map[int]int{}
	for i := range a {
		if x, ok := ab[a[i]]; ok && x != b[i] {
			return false
		}
		if y, ok := ba[b[i]]; ok && y != a[i] {
			return false
		}
		ab[a[i]], ba[b[i]] = b[i], a[i]
	}
	return true
}

func TestKeywords(t *testing.T) {
	docs := [][]string{
		{"The user asked for help with Python list comprehension", "Python list comprehension examples", "Explain Python list sorting"},
		{"Write a haiku about autumn leaves", "A haiku about winter snow", "Compose a haiku about autumn rain"},
	}
	kw := Keywords(docs, 3)
	if len(kw) != 2 || len(kw[0]) == 0 || len(kw[1]) == 0 {
		t.Fatalf("keywords %v", kw)
	}
	if !strings.Contains(strings.Join(kw[0], " "), "python") || !strings.Contains(strings.Join(kw[1], " "), "haiku") {
		t.Errorf("keywords %v: want python and haiku first", kw)
	}
	for _, w := range kw[0] {
		if w == "user" || w == "help" {
			t.Errorf("boilerplate word %q chosen", w)
		}
	}
	again := Keywords(docs, 3)
	for i := range kw {
		if strings.Join(kw[i], "|") != strings.Join(again[i], "|") {
			t.Errorf("keywords not deterministic: %v vs %v", kw, again)
		}
	}
	if name, slug := keywordName([]string{"list comprehension", "python", "sorting"}); name != "List comprehension, python and sorting" || slug != "list_comprehension_python_sorting" {
		t.Errorf("name %q slug %q", name, slug)
	}
}

func TestExtractiveIsDeterministicAndQuotesTheRequest(t *testing.T) {
	c := conversation.Conversation{ChatID: "c1", Messages: []conversation.Message{
		{Role: "user", Content: "How do I   reverse a linked list in Go? I tried recursion."},
		{Role: "assistant", Content: "Use three pointers: prev, cur and next."},
		{Role: "user", Content: "Can you show the recursive version of the linked list code?"},
	}}
	var e Extractive
	f1, _, _, err := e.Summarize(context.Background(), &c)
	if err != nil {
		t.Fatal(err)
	}
	f2, _, _, _ := e.Summarize(context.Background(), &c)
	a, _ := json.Marshal(f1)
	b, _ := json.Marshal(f2)
	if !bytes.Equal(a, b) {
		t.Errorf("not deterministic:\n%s\n%s", a, b)
	}
	if !strings.Contains(f1.Summary, "How do I reverse a linked list in Go?") || !strings.Contains(f1.Summary, "followed up 1 time") ||
		!strings.Contains(f1.Summary, "linked") || len(f1.Languages) != 1 || f1.ConcerningScore != nil {
		t.Errorf("facets %s", a)
	}
	s := summaryOf(&c, f1)
	if err := s.Validate(); err != nil || s.ChatID != "c1" {
		t.Errorf("summary %+v: %v", s, err)
	}
	empty := conversation.Conversation{ChatID: "e", Messages: []conversation.Message{{Role: "user", Content: "  "}}}
	if f, _, _, err := e.Summarize(context.Background(), &empty); err != nil || f.Summary == "" {
		t.Errorf("empty conversation: %+v, %v", f, err)
	}
}

func TestTreeRender(t *testing.T) {
	p := func(s string) *string { return &s }
	ids := func(n int, prefix string) []string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, prefix+itoa(i))
		}
		return out
	}
	cs := []conversation.Cluster{
		{ID: "r", Name: "Write and edit all sorts of texts, with a name far too long to fit in the room left", ChatIDs: append(ids(30, "a"), ids(10, "b")...)},
		{ID: "a", Name: "Edit essays 編集", ChatIDs: ids(30, "a"), ParentID: p("r")},
		{ID: "b", Name: "Write poems", ChatIDs: ids(10, "b"), ParentID: p("r")},
		{ID: "n", Name: "Unclustered conversations (HDBSCAN noise)", Slug: NoiseSlug, ChatIDs: ids(50, "n")},
		{ID: "s", Name: "Small topic", ChatIDs: ids(10, "s")},
	}
	tr, err := BuildTree(cs)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Total != 100 || len(tr.Roots) != 3 || tr.Roots[0].Cluster.ID != "r" || tr.Roots[2].Cluster.ID != "n" {
		t.Fatalf("tree %+v (the noise group, though largest, comes last)", tr)
	}
	for _, w := range []int{40, 80} {
		var b bytes.Buffer
		tr.Render(&b, RenderOptions{Width: w})
		lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
		if len(lines) != 6 {
			t.Errorf("width %d: %d lines:\n%s", w, len(lines), b.String())
		}
		for _, l := range lines[1:] {
			if displayWidth(l) > w {
				t.Errorf("width %d: line of %d columns: %q", w, displayWidth(l), l)
			}
		}
		if !strings.Contains(b.String(), "└─ Write poems") || !strings.Contains(b.String(), " 40.0% ") {
			t.Errorf("width %d:\n%s", w, b.String())
		}
	}
	var b bytes.Buffer
	tr.Render(&b, RenderOptions{Depth: 1})
	if strings.Contains(b.String(), "Write poems") {
		t.Errorf("depth 1 shows children:\n%s", b.String())
	}
	if _, err := BuildTree([]conversation.Cluster{{ID: "x", ParentID: p("nope")}}); err == nil {
		t.Error("unknown parent accepted")
	}
}

// Counts are written with thousands separators, and a tree of a million
// conversations still fits the width.
func TestTreeRenderThousands(t *testing.T) {
	big := make([]string, 1_200_000) // the same id: only the count matters here
	tr, err := BuildTree([]conversation.Cluster{
		{ID: "a", Name: "A large topic", ChatIDs: big},
		{ID: "b", Name: "A small topic", ChatIDs: big[:1500]},
	})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	tr.Render(&b, RenderOptions{Width: 60})
	out := b.String()
	if !strings.HasPrefix(out, "1,201,500 conversations in 2 clusters") || !strings.Contains(out, "A large topic") ||
		!strings.Contains(out, " 1,200,000  99.9% ") || !strings.Contains(out, "     1,500   0.1% ") {
		t.Errorf("tree:\n%s", out)
	}
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n")[1:] {
		if displayWidth(l) > 60 {
			t.Errorf("line of %d columns: %q", displayWidth(l), l)
		}
	}
}

// BenchmarkAverageLinkage: the offline hierarchy's cost for k base clusters
// (centroids of 384 dimensions).
func BenchmarkAverageLinkage(b *testing.B) {
	for _, k := range []int{500, 2000} {
		b.Run(itoa(k), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			vecs := make([][]float32, k)
			for i := range vecs {
				vecs[i] = make([]float32, 384)
				for j := range vecs[i] {
					vecs[i][j] = float32(rng.NormFloat64())
				}
				vecs[i] = centroid(vecs[i], 384, []int{0})
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				averageLinkage(vecs)
			}
		})
	}
}

// The offline hierarchy's guarantees, over many shapes: at most
// MaxTopClusters roots (the unclustered group counting as one), no parent
// with a single child, every base cluster once, and each parent's chat ids
// exactly its children's.
func TestHierarchyProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 40; trial++ {
		k := 1 + rng.IntN(60)
		maxTop := 1 + rng.IntN(12)
		d := 8
		var sums []conversation.ConversationSummary
		var x []float32
		var base []conversation.Cluster
		for c := 0; c < k; c++ {
			size := 1 + rng.IntN(5)
			var ids []string
			for j := 0; j < size; j++ {
				id := itoa(c) + "-" + itoa(j)
				ids = append(ids, id)
				sums = append(sums, conversation.ConversationSummary{ChatID: id, Summary: "topic " + itoa(c) + " word" + itoa(rng.IntN(9))})
				for q := 0; q < d; q++ {
					x = append(x, float32(rng.NormFloat64()))
				}
			}
			cl := conversation.Cluster{ID: clusterID("base", ids), Name: "c" + itoa(c), ChatIDs: ids}
			if c == 0 && rng.IntN(2) == 0 {
				cl.Slug = NoiseSlug
			}
			base = append(base, cl)
		}
		all, err := buildHierarchy(context.Background(), HierarchyOptions{MaxTopClusters: maxTop, Branching: 2 + rng.IntN(4)}, nil, sums, x, d, base, &StageStats{}, func() {})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := BuildTree(all)
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Roots) > max(maxTop, 1+btoi(base[0].Slug == NoiseSlug)) {
			t.Errorf("k %d, max %d: %d roots", k, maxTop, len(tr.Roots))
		}
		leaves := 0
		var walk func([]*TreeNode)
		walk = func(ns []*TreeNode) {
			for _, n := range ns {
				switch len(n.Children) {
				case 0:
					leaves++
				case 1:
					t.Errorf("k %d, max %d: %q has one child", k, maxTop, n.Cluster.Name)
				default:
					var ids []string
					for _, c := range n.Children {
						ids = append(ids, c.Cluster.ChatIDs...)
					}
					if clusterID("x", ids) != clusterID("x", n.Cluster.ChatIDs) {
						t.Errorf("parent %q's chat ids are not its children's", n.Cluster.Name)
					}
					if n.Noise {
						t.Errorf("the unclustered group became a parent")
					}
				}
				walk(n.Children)
			}
		}
		walk(tr.Roots)
		if leaves != k || tr.Total != len(sums) {
			t.Errorf("k %d: %d leaves, %d of %d conversations", k, leaves, tr.Total, len(sums))
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
