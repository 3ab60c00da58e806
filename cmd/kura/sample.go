package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/internal/progress"
	"github.com/kura-go/kura/sample"
	"github.com/spf13/cobra"
)

func init() { register(newSampleCmd) }

func newSampleCmd() *cobra.Command {
	var (
		n, k int
		seed int64
		out  string
	)
	cmd := &cobra.Command{
		Use:   "sample",
		Short: "Write the built-in synthetic sample corpus as a Kura checkpoint directory",
		Long: fmt.Sprintf(`sample writes a synthetic corpus of chat conversations on %d realistic
assistant topics (coding help, travel planning, cooking, health questions,
math tutoring, legal questions and more) as a Kura checkpoint directory:

  conversations.jsonl  the conversations (2 to 6 messages each)
  summaries.jsonl      one Kura summary per conversation (embedding null)
  clusters.jsonl       one cluster per topic with its chat ids: the ground truth

The corpus is deterministic for a seed, and no two summaries are identical up
to at least %s conversations per topic. It is written in constant memory,
so a million conversations take well under a minute.`, sample.NumTopics(), human.Thousands(sample.MinCapacity)),
		Example: `  # 1000 conversations on all topics in ./kura-sample
  kura sample

  # A million conversations on 10 topics with another seed
  kura sample --conversations 1000000 --topics 10 --seed 7 --out /tmp/big`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if n < 1 {
				return usageErrorf("--conversations must be at least 1, not %d", n)
			}
			if k < 1 || k > sample.NumTopics() {
				return usageErrorf("--topics must be between 1 and %d (the topics available), not %d", sample.NumTopics(), k)
			}
			if out == "" {
				return usageErrorf("--out must name a directory")
			}
			bar := progress.New(cmd.ErrOrStderr(), "sample", int64(n), stderrIsTerminal())
			last := 0
			start := time.Now()
			err := sample.WriteDir(cmd.Context(), out, sample.Options{
				Conversations: n, Topics: k, Seed: seed,
				Progress: func(done int) { bar.Add(int64(done - last)); last = done },
			})
			bar.Finish()
			if err != nil {
				return err
			}
			slog.Debug("sample written", "dir", out, "conversations", n, "topics", k, "seed", seed, "elapsed", time.Since(start))
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d conversations on %d topics (seed %d) to %s\n", n, k, seed, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVarP(&n, "conversations", "n", sample.DefaultConversations, "number of conversations")
	f.IntVarP(&k, "topics", "k", sample.NumTopics(), fmt.Sprintf("number of topics, 1 to %d", sample.NumTopics()))
	f.Int64Var(&seed, "seed", sample.DefaultSeed, "random seed; the same seed gives the same corpus")
	f.StringVarP(&out, "out", "o", "./kura-sample", "output directory (created if needed)")
	return cmd
}
