package loadtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/kura-go/kura/cluster/kmeans"
	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/lexical"
)

// workerEnv makes the test binary act as a loadtest worker (the child
// process path): TestMain dispatches to RunWorker with the test toolkit.
const workerEnv = "KURA_LOADTEST_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		tk := testToolkit()
		if os.Getenv(workerEnv+"_FAIL") == "1" {
			tk.Cluster = func(context.Context, []float32, int, int, ClusterConfig) ([]int, error) {
				return nil, fmt.Errorf("clusterer exploded on purpose")
			}
		}
		if os.Getenv(workerEnv+"_CRASH") == "1" {
			fmt.Println("stray output on stdout")
			fmt.Fprintln(os.Stderr, "fatal error: out of memory (simulated)")
			os.Exit(3)
		}
		if err := RunWorker(context.Background(), tk, os.Stdin, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var topicWords = [][]string{
	{"recipe", "baking", "bread", "oven", "flour", "dough"},
	{"python", "function", "error", "traceback", "debugging", "variable"},
	{"travel", "itinerary", "flight", "hotel", "museum", "city"},
	{"poem", "rhyme", "stanza", "metaphor", "verse", "imagery"},
	{"tax", "deduction", "income", "filing", "refund", "receipt"},
	{"workout", "muscle", "training", "squat", "protein", "cardio"},
}

var openers = []string{"The user asked for help with", "The user requested guidance on", "The user wanted a detailed explanation of", "The user needed quick advice about"}
var closers = []string{"The assistant provided a clear answer with examples.", "The assistant explained the steps and gave suggestions.", "The assistant offered a concise overview, and then a checklist.", "The assistant described several options, including trade-offs."}

// testBaseline makes a small summaries baseline: perTopic records for each
// of topics topics, each topic a ground-truth cluster.
func testBaseline(topics, perTopic int) *Baseline {
	b := &Baseline{Source: "test corpus", Kind: KindSummaries}
	for t := 0; t < topics; t++ {
		w := topicWords[t%len(topicWords)]
		var ids []string
		for i := 0; i < perTopic; i++ {
			id := fmt.Sprintf("t%d-%d", t, i)
			req := fmt.Sprintf("The user's overall request for the assistant is to explain %s and %s.", w[i%6], w[(i+2)%6])
			task := fmt.Sprintf("The task is to cover %s, %s and %s.", w[(i+1)%6], w[(i+3)%6], w[(i+4)%6])
			b.Summaries = append(b.Summaries, conversation.ConversationSummary{
				Summary:   fmt.Sprintf("%s %s and %s. %s", openers[i%4], w[i%6], w[(i+1)%6], closers[(i/4)%4]),
				Request:   &req,
				Task:      &task,
				Languages: []string{"english"},
				ChatID:    id,
				Metadata:  map[string]any{"n": i},
			})
			b.Labels = append(b.Labels, t)
			ids = append(ids, id)
		}
		b.Clusters = append(b.Clusters, conversation.Cluster{ID: fmt.Sprintf("c%d", t), Name: strings.Join(w[:2], " "), Slug: w[0], ChatIDs: ids})
	}
	return b
}

func testToolkit() *Toolkit {
	return &Toolkit{
		Records: KuraFiles{},
		Sample: func(ctx context.Context, n, topics int, seed int64) (*Baseline, error) {
			return testBaseline(topics, (n+topics-1)/topics), nil
		},
		NewEmbedder: func(ctx context.Context, args []string, corpus []string) (embed.Embedder, error) {
			e := lexical.New(lexical.Options{Dims: 256})
			e.Fit(corpus)
			return e, nil
		},
		Cluster: func(ctx context.Context, x []float32, n, d int, c ClusterConfig) ([]int, error) {
			k := c.K
			if k == 0 {
				k = kmeans.KForItems(n, c.ItemsPerCluster)
			}
			r, err := kmeans.Cluster(ctx, x, n, d, kmeans.Params{K: k, Seed: uint64(c.Seed)})
			if err != nil {
				return nil, err
			}
			return r.Labels, nil
		},
	}
}

// testConfig is a small, fast configuration on the test corpus.
func testConfig(t *testing.T) Config {
	c := DefaultConfig()
	c.Scales = []int{30, 60, 120}
	c.SampleConversations = 48
	c.SampleTopics = 4
	c.Cluster = ClusterConfig{Algorithm: "kmeans", K: 4, Seed: 1}
	c.OutDir = t.TempDir()
	c.InProcess = true
	c.Quiet = true
	return c
}
