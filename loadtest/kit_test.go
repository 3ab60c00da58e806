package loadtest

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/kura-go/kura/cluster"
	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/backend"
	"github.com/kura-go/kura/embed/hash"
	"github.com/kura-go/kura/loadtest/scaledata"
)

// workerEnv makes the test binary act as a loadtest worker (the child
// process path): TestMain dispatches to RunWorker with the test toolkit.
const workerEnv = "KURA_LOADTEST_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		tk := testToolkit()
		if os.Getenv(workerEnv+"_FAIL") == "1" {
			tk.Cluster = func(context.Context, cluster.Spec, []float32, int, int) ([]int, error) {
				return nil, fmt.Errorf("clusterer exploded on purpose")
			}
		}
		if os.Getenv(workerEnv+"_CRASH") == "1" {
			fmt.Println("stray output on stdout")
			fmt.Fprintln(os.Stderr, "fatal error: out of memory (simulated)")
			os.Exit(3)
		}
		if f := os.Getenv(workerEnv + "_HANG"); f != "" {
			hangWorker(f) // never returns
		}
		if err := RunWorker(context.Background(), tk, os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if f := os.Getenv(parentEnv); f != "" {
		parentOfHangingWorker(f) // never returns
	}
	os.Exit(m.Run())
}

func testToolkit() *Toolkit {
	return &Toolkit{
		Sample: func(ctx context.Context, n, topics int, seed int64) (*scaledata.Baseline, error) {
			return scaledata.Synthetic(topics, (n+topics-1)/topics), nil
		},
		NewEmbedder: func(ctx context.Context, s backend.Spec, corpus Corpus) (embed.Embedder, error) {
			e := hash.New(hash.Options{Dims: 256})
			return e, e.FitStream(corpus)
		},
		Reduce:  NewToolkit().Reduce,
		Cluster: NewToolkit().Cluster,
	}
}

// testConfig is a small, fast configuration on the test corpus.
func testConfig(t *testing.T) Config {
	c := DefaultConfig()
	c.Scales = []int{30, 60, 120}
	c.SampleConversations = 48
	c.SampleTopics = 4
	c.Cluster = cluster.Spec{Algorithm: "kmeans", K: 4, Seed: 1}
	c.OutDir = t.TempDir()
	c.InProcess = true
	c.Quiet = true
	return c
}
