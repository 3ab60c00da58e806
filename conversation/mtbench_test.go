package conversation

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kura-go/kura/internal/refdata"
)

// TestMTBenchRoundTrip reads Kura's own checkpoint files (kura-mtbench),
// writes them back as JSONL, and converts them JSONL -> Parquet -> JSONL:
// both outputs must be byte-identical to the input.
func TestMTBenchRoundTrip(t *testing.T) {
	dir := refdata.Path(t, "data/kura-mtbench")
	cp, err := FindCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[Kind]int{Conversations: 1000, Summaries: 1000, Clusters: 13, MetaClusters: 19, Dimensionality: 19}
	tmp := t.TempDir()
	ctx := context.Background()
	for _, k := range Kinds {
		in := cp.Path(k)
		if in == "" {
			t.Errorf("%s: not found in %s", k, dir)
			continue
		}
		orig, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := CheckFile(ctx, in, k, CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Records != want[k] || rep.NumProblems != 0 || rep.NumWarnings != 0 {
			t.Errorf("%s: %d records, problems %v, warnings %v; want %d records, none", k, rep.Records, rep.Problems, rep.Warnings, want[k])
		}

		direct := filepath.Join(tmp, k.String()+".direct.jsonl")
		n, _, err := ConvertFile(ctx, in, direct, k, ReadOptions{})
		if err != nil || n != want[k] {
			t.Fatalf("%s: convert to JSONL: %d records, %v", k, n, err)
		}
		pq := filepath.Join(tmp, k.String()+".parquet")
		if _, _, err := ConvertFile(ctx, in, pq, k, ReadOptions{}); err != nil {
			t.Fatalf("%s: convert to Parquet: %v", k, err)
		}
		back := filepath.Join(tmp, k.String()+".back.jsonl")
		if n, _, err := ConvertFile(ctx, pq, back, k, ReadOptions{}); err != nil || n != want[k] {
			t.Fatalf("%s: convert back from Parquet: %d records, %v", k, n, err)
		}
		for _, p := range []string{direct, back} {
			got, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, orig) {
				t.Errorf("%s: %s differs from %s at byte %d", k, filepath.Base(p), in, firstDiff(got, orig))
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
