package scaledata

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/kura-go/kura/conversation"
)

// digestOf hashes a dataset's records, ground truth and counts, in order.
func digestOf(t *testing.T, d *Dataset) string {
	t.Helper()
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, v := range []any{d.Summaries, d.Conversations, d.Clusters, []int{d.Generated, d.Fallbacks, d.Rewritten}} {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// TestGenerateSameAsBefore pins the datasets of a seed: the digests are
// those of the in-memory Build that kept every text in a map (commit
// 4415df3), before Generate told texts apart by fingerprints and streamed
// the records. The same records, ground truth and counts, in the same order.
func TestGenerateSameAsBefore(t *testing.T) {
	ctx := context.Background()
	sample, err := Sample(ctx, 300, 13, 42)
	if err != nil {
		t.Fatal(err)
	}
	dup := Synthetic(3, 10) // record 4 repeats record 1's text
	dup.Summaries[4].Summary, dup.Summaries[4].Request, dup.Summaries[4].Task = dup.Summaries[1].Summary, dup.Summaries[1].Request, dup.Summaries[1].Task
	for _, c := range []struct {
		name      string
		b         *Baseline
		n         int
		seed      int64
		want      string
		rewritten bool
	}{
		{"synthetic-50", Synthetic(4, 25), 50, 3, "02d2ffc9c92882bb", false},
		{"synthetic-2000", Synthetic(4, 25), 2000, 7, "edf3b46e2701c643", false},
		{"tiny-200", Synthetic(2, 1), 200, 1, "7d16ed75cac7245f", false},
		{"sample-100", sample, 100, 42, "18c69f18d8ba8415", false},
		{"sample-5000", sample, 5000, 42, "82906d6026e83379", false},
		{"dup-20", dup, 20, 5, "6859c9f85bb6a02c", true},
		{"dup-300", dup, 300, 5, "59325d80f9e8dec1", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := Build(ctx, c.b, c.n, c.seed)
			if err != nil {
				t.Fatal(err)
			}
			checkDataset(t, c.b, d, c.n)
			if got := digestOf(t, d); got != c.want {
				t.Errorf("digest %s, want %s", got, c.want)
			}
			if (d.Rewritten > 0) != c.rewritten {
				t.Errorf("%d rewritten baseline records", d.Rewritten)
			}
		})
	}
}

// TestWriteStreamsBuild checks that Write, which streams the records to
// disk, writes the files Build + WriteCheckpoint write, and labels each
// record with its ground-truth cluster in the clusters file.
func TestWriteStreamsBuild(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		b    *Baseline
		n    int
	}{
		{"subsample", Synthetic(4, 25), 30},
		{"scaled", Synthetic(4, 25), 700},
		{"conversations", conversationsBaseline(), 90},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := Build(ctx, c.b, c.n, 9)
			if err != nil {
				t.Fatal(err)
			}
			want, got := t.TempDir(), t.TempDir()
			if err := d.WriteCheckpoint(want); err != nil {
				t.Fatal(err)
			}
			w, err := Write(ctx, c.b, c.n, 9, got)
			if err != nil {
				t.Fatal(err)
			}
			if w.Records != c.n || len(w.Labels) != c.n || w.Generated != d.Generated || w.Fallbacks != d.Fallbacks {
				t.Fatalf("written %+v, built generated %d fallbacks %d", w.Stats, d.Generated, d.Fallbacks)
			}
			for _, f := range []string{SummariesFile, ConversationsFile, ClustersFile} {
				a, aerr := os.ReadFile(filepath.Join(want, f))
				b, berr := os.ReadFile(filepath.Join(got, f))
				if os.IsNotExist(aerr) && os.IsNotExist(berr) {
					continue
				}
				if aerr != nil || berr != nil {
					t.Fatal(aerr, berr)
				}
				if !bytes.Equal(a, b) {
					t.Errorf("%s differs from Build's", f)
				}
			}
			of := map[string]int32{}
			for g, cl := range d.Clusters {
				for _, id := range cl.ChatIDs {
					of[id] = int32(g)
				}
			}
			for i := 0; i < d.Len(); i++ {
				var id string
				if d.Kind == KindConversations {
					id = d.Conversations[i].ChatID
				} else {
					id = d.Summaries[i].ChatID
				}
				want, ok := of[id]
				if !ok {
					want = -1
				}
				if w.Labels[i] != want {
					t.Fatalf("record %d (%s): label %d, want %d", i, id, w.Labels[i], want)
				}
			}
		})
	}
}

// conversationsBaseline is Synthetic(3, 20) as one-turn conversations.
func conversationsBaseline() *Baseline {
	s := Synthetic(3, 20)
	b := &Baseline{Source: "test conversations", Kind: KindConversations, Clusters: s.Clusters, Labels: s.Labels}
	at, err := conversation.ParseTime("2026-01-02T03:04:05Z")
	if err != nil {
		panic(err)
	}
	for _, x := range s.Summaries {
		b.Conversations = append(b.Conversations, conversation.Conversation{
			ChatID: x.ChatID, CreatedAt: at, Metadata: x.Metadata,
			Messages: []conversation.Message{
				{CreatedAt: at, Role: "user", Content: *x.Request + " " + *x.Task},
				{CreatedAt: at, Role: "assistant", Content: x.Summary},
			},
		})
	}
	return b
}
