package loadtest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/kura-go/kura/cluster"
	"github.com/kura-go/kura/cluster/quality"
	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/loadtest/scaledata"
	"github.com/kura-go/kura/vecfile"
)

// TestScaleStreamsLikeInMemory runs a scale through the streamed path (the
// records read from the scale's file in chunks, the vectors written to an
// .npy file and mapped for clustering) and checks it against the whole
// pipeline done in memory on the same dataset: the same vectors bit for
// bit, the same labels, the same records written, the same ARI.
func TestScaleStreamsLikeInMemory(t *testing.T) {
	defer func(old int) { readChunk = old }(readChunk)
	readChunk = 37 // many file chunks, none aligned with the embedder's
	ctx := context.Background()
	for _, c := range []struct {
		name    string
		scale   int
		cluster cluster.Spec
	}{
		{"kmeans", 230, cluster.Spec{Algorithm: "kmeans", K: 4, Seed: 1}},
		{"hdbscan", 300, cluster.Spec{Algorithm: "hdbscan", MinClusterSize: 10, Seed: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.EmbedChunk = 16
			cfg.Cluster = c.cluster
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			job := &ScaleJob{Config: cfg, Scale: c.scale, InputDir: filepath.Join(dir, "input"), ArtifactDir: filepath.Join(dir, "results"), Isolation: "test"}
			tk := testToolkit()
			res, err := runScaleJob(ctx, tk, job, nil)
			if err != nil {
				t.Fatal(err)
			}

			// The same in memory.
			base, err := loadBaseline(ctx, tk, &cfg)
			if err != nil {
				t.Fatal(err)
			}
			ds, err := scaledata.Build(ctx, base, c.scale, cfg.Seed)
			if err != nil {
				t.Fatal(err)
			}
			texts := make([]string, ds.Len())
			for i := range texts {
				texts[i] = ds.Text(i)
			}
			emb, err := tk.NewEmbedder(ctx, cfg.Embedder, corpusOf(texts))
			if err != nil {
				t.Fatal(err)
			}
			vecs, err := emb.Embed(ctx, texts)
			if err != nil {
				t.Fatal(err)
			}
			dims := len(vecs[0])
			x := make([]float32, 0, len(vecs)*dims)
			for _, v := range vecs {
				x = append(x, v...)
			}
			got, rows, cols, err := vecfile.Read(filepath.Join(job.ArtifactDir, "embeddings.npy"), 0)
			if err != nil {
				t.Fatal(err)
			}
			if rows != ds.Len() || cols != dims || !reflect.DeepEqual(got, x) {
				t.Fatalf("vectors on disk (%d × %d) differ from those embedded in memory (%d × %d)", rows, cols, ds.Len(), dims)
			}
			labels, err := tk.Cluster(ctx, cfg.Cluster, x, ds.Len(), dims)
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]string, ds.Len())
			for i := range ids {
				ids[i] = ds.Summaries[i].ChatID
			}
			found, err := conversation.ReadFile[conversation.Cluster](filepath.Join(job.ArtifactDir, "clusters.jsonl"), conversation.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if want := clustersOf(labels, ids); !reflect.DeepEqual(found, want) {
				t.Errorf("clusters found on the streamed path differ from those of the vectors in memory:\n%v\n%v", found, want)
			}
			// The records written are the dataset's.
			want := filepath.Join(dir, "want.jsonl")
			if err := conversation.WriteFile(want, ds.Summaries); err != nil {
				t.Fatal(err)
			}
			a, _ := os.ReadFile(want)
			b, err := os.ReadFile(filepath.Join(job.ArtifactDir, "summaries.jsonl"))
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("summaries.jsonl in the results is not the dataset's records (%v)", err)
			}
			pq, err := conversation.ReadFile[conversation.ConversationSummary](filepath.Join(job.ArtifactDir, "summaries.parquet"), conversation.ReadOptions{})
			if err != nil || len(pq) != ds.Len() || pq[len(pq)-1].ChatID != ids[len(ids)-1] {
				t.Errorf("summaries.parquet: %d records, %v", len(pq), err)
			}
			// The quality is that of the in-memory labels against the
			// ground truth of clusters.jsonl.
			of := map[string]int{}
			for g, cl := range ds.Clusters {
				for _, id := range cl.ChatIDs {
					of[id] = g
				}
			}
			truth := make([]int, len(ids))
			for i, id := range ids {
				truth[i] = of[id]
			}
			ari, err := quality.AdjustedRandIndex(truth, labels)
			if err != nil {
				t.Fatal(err)
			}
			if res.Quality == nil || res.Quality.ARI != ari || res.Conversations != ds.Len() || res.Dims != dims {
				t.Errorf("result %+v, quality %+v; want ARI %v", res, res.Quality, ari)
			}
			t.Logf("%d records, ARI %.3f, %d clusters", ds.Len(), ari, res.Clusters)
		})
	}
}
