package scaledata

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/refdata"
)

// checkDataset checks the properties every dataset must have: n records,
// unique chat ids, no two identical embedded texts, and ground truth that
// keeps each generated record in its source record's cluster.
func checkDataset(t *testing.T, b *Baseline, d *Dataset, n int) {
	t.Helper()
	if d.Len() != n {
		t.Fatalf("dataset has %d records, want %d", d.Len(), n)
	}
	clusterOf := map[string]string{}
	for _, c := range d.Clusters {
		for _, id := range c.ChatIDs {
			if prev, dup := clusterOf[id]; dup {
				t.Fatalf("chat %s in clusters %s and %s", id, prev, c.ID)
			}
			clusterOf[id] = c.ID
		}
	}
	baseCluster := map[string]string{}
	for i, l := range b.Labels {
		if l >= 0 {
			baseCluster[b.chatID(i)] = b.Clusters[l].ID
		}
	}
	texts := map[string]int{}
	ids := map[string]bool{}
	for i := 0; i < d.Len(); i++ {
		txt := d.Text(i)
		if j, dup := texts[txt]; dup {
			t.Fatalf("records %d and %d have the same text:\n%s", j, i, txt)
		}
		texts[txt] = i
		var id string
		if d.Kind == KindConversations {
			id = d.Conversations[i].ChatID
		} else {
			id = d.Summaries[i].ChatID
		}
		if ids[id] {
			t.Fatalf("chat id %s twice", id)
		}
		ids[id] = true
		var src string
		if d.Kind == KindConversations {
			src, _ = d.Conversations[i].Metadata["loadtest_generated_from"].(string)
		} else {
			src, _ = d.Summaries[i].Metadata["loadtest_generated_from"].(string)
		}
		if src == "" {
			src = id
		}
		if want, ok := baseCluster[src]; ok && clusterOf[id] != want {
			t.Fatalf("record %s (from %s) is in cluster %q, want %q", id, src, clusterOf[id], want)
		}
	}
}

func TestBuildDatasetNoDuplicatesAt20x(t *testing.T) {
	b := Synthetic(4, 25) // 100 records
	for _, n := range []int{100, 2000} {
		d, err := Build(context.Background(), b, n, 7)
		if err != nil {
			t.Fatal(err)
		}
		checkDataset(t, b, d, n)
		if n > b.Len() && d.Generated != n-b.Len() {
			t.Errorf("generated %d, want %d", d.Generated, n-b.Len())
		}
		t.Logf("n=%d generated=%d fallbacks=%d", n, d.Generated, d.Fallbacks)
		// Recombination, not the numbered fallback, must make almost all of them.
		if d.Fallbacks > d.Generated/20 {
			t.Errorf("%d of %d generated records needed the numbered fallback", d.Fallbacks, d.Generated)
		}
	}
}

func TestBuildDatasetTinyClusterStaysDistinct(t *testing.T) {
	// One record alone in its cluster: recombination can only paraphrase it,
	// so the numbered fallback must still keep every text distinct.
	b := Synthetic(2, 1)
	d, err := Build(context.Background(), b, 200, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkDataset(t, b, d, 200)
	if d.Fallbacks == 0 {
		t.Error("expected the numbered fallback to be used for a one-record cluster")
	}
}

func TestBuildDatasetStratifiedSubsample(t *testing.T) {
	b := Synthetic(4, 25)
	// Make the clusters unequal: move 15 records of cluster 0 to cluster 1.
	b.Clusters[1].ChatIDs = append(b.Clusters[1].ChatIDs, b.Clusters[0].ChatIDs[:15]...)
	b.Clusters[0].ChatIDs = b.Clusters[0].ChatIDs[15:]
	b.Labels = labelsFor(b, b.Clusters)
	d, err := Build(context.Background(), b, 50, 3)
	if err != nil {
		t.Fatal(err)
	}
	checkDataset(t, b, d, 50)
	got := map[string]int{}
	for _, c := range d.Clusters {
		got[c.ID] = len(c.ChatIDs)
	}
	want := map[string]int{"c0": 5, "c1": 20, "c2": 13, "c3": 12} // 10:40:25:25 of 50, largest remainder
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cluster sizes %v, want %v", got, want)
	}
	if d.Generated != 0 {
		t.Errorf("a subsample generated %d records", d.Generated)
	}
}

func TestBuildDatasetDeterministic(t *testing.T) {
	b := Synthetic(3, 10)
	d1, _ := Build(context.Background(), b, 300, 42)
	d2, _ := Build(context.Background(), b, 300, 42)
	d3, _ := Build(context.Background(), b, 300, 43)
	if !reflect.DeepEqual(d1, d2) {
		t.Error("same seed, different datasets")
	}
	if reflect.DeepEqual(d1.Summaries, d3.Summaries) {
		t.Error("different seeds, same dataset")
	}
}

func TestAllocate(t *testing.T) {
	tests := []struct {
		n       int
		weights []int
		want    []int
	}{
		{10, []int{1, 1, 1}, []int{4, 3, 3}},
		{7, []int{10, 0, 30}, []int{2, 0, 5}},
		{0, []int{3, 4}, []int{0, 0}},
		{100, []int{12, 68, 60}, []int{9, 48, 43}},
	}
	for _, tt := range tests {
		if got := allocate(tt.n, tt.weights); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("allocate(%d, %v) = %v, want %v", tt.n, tt.weights, got, tt.want)
		}
	}
}

func TestSplitSentencesAndReplaceWord(t *testing.T) {
	got := splitSentences("The user asked. The assistant e.g. helped! Done? 3 items remain.")
	want := []string{"The user asked.", "The assistant e.g. helped!", "Done?", "3 items remain."}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("splitSentences = %q", got)
	}
	tests := []struct{ s, from, to, want string }{
		{"Help me help them", "help", "assist", "Help me assist them"},
		{"Help me", "help", "assist", "Assist me"},
		{"helpful help", "help", "assist", "helpful assist"},
		{"no match here", "help", "assist", "no match here"},
	}
	for _, tt := range tests {
		if got := replaceWord(tt.s, tt.from, tt.to); got != tt.want {
			t.Errorf("replaceWord(%q) = %q, want %q", tt.s, got, tt.want)
		}
	}
}

// On real Kura data (when ../shared is present): 20x the 1,000 mtbench
// summaries, and 2x its conversations, without a duplicate.
func TestBuildDatasetMTBench(t *testing.T) {
	dir := refdata.Path(t, "data/kura-mtbench")
	b, err := Load(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Kind != KindSummaries || b.Len() != 1000 || len(b.Clusters) != 13 || b.Info().Labeled != 1000 {
		t.Fatalf("baseline %+v", b.Info())
	}
	n := 20 * b.Len()
	if testing.Short() {
		n = 3000
	}
	d, err := Build(context.Background(), b, n, 42)
	if err != nil {
		t.Fatal(err)
	}
	checkDataset(t, b, d, n)
	t.Logf("mtbench summaries x%d: fallbacks %d of %d", n/1000, d.Fallbacks, d.Generated)
	if d.Fallbacks > d.Generated/100 {
		t.Errorf("%d of %d needed the numbered fallback", d.Fallbacks, d.Generated)
	}

	bc, err := Load(context.Background(), dir+"/conversations.jsonl,"+dir+"/clusters.jsonl", nil)
	if err != nil {
		t.Fatal(err)
	}
	if bc.Kind != KindConversations || bc.Len() != 1000 {
		t.Fatalf("conversation baseline %+v", bc.Info())
	}
	dc, err := Build(context.Background(), bc, 2000, 42)
	if err != nil {
		t.Fatal(err)
	}
	checkDataset(t, bc, dc, 2000)
}

// TestLoadExports loads conversations from a Claude.ai export and from a
// directory holding only Kura's conversations.json.
func TestLoadExports(t *testing.T) {
	b, err := Load(context.Background(), "../../ingest/testdata/claude-export.json", nil)
	if err != nil || b.Kind != KindConversations || b.Len() != 3 || b.Conversations[2].ChatID != "c3d4e5f6-1111-4222-8333-444455556666" {
		t.Fatalf("claude export: %v %+v", err, b)
	}
	dir := t.TempDir()
	data, err := os.ReadFile("../../ingest/testdata/kura-conversations.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "conversations.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err = Load(context.Background(), dir, nil)
	if err != nil || b.Kind != KindConversations || b.Len() != 3 {
		t.Fatalf("conversations.json dir: %v %+v", err, b)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ data, want string }{
		{dir + "/missing", "no such file"},
		{dir, "not a Kura checkpoint"},
		{"", "no built-in sample corpus"},
	} {
		_, err := Load(context.Background(), tt.data, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%q) = %v, want %q", tt.data, err, tt.want)
		}
	}
}
