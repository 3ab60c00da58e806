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
