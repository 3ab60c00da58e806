package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kura-go/kura/embed/minilm"
	"github.com/kura-go/kura/hfhub"
	"github.com/kura-go/kura/internal/progress"
)

func init() { register(newModelsCmd) }

func newModelsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "Download and list local embedding models (for --embedder minilm)",
		Long: `models manages the local sentence-embedding models that --embedder minilm runs
in pure Go: BERT sentence-transformers models such as all-MiniLM-L6-v2.

Models are kept in kura's cache, $KURA_CACHE_DIR/models or
os.UserCacheDir()/kura/models/ORG/NAME (~/.cache/kura/models on Linux).
Models already in the Hugging Face cache ($HF_HOME/hub,
~/.cache/huggingface/hub) are found too.`,
		Example: `  # Download all-MiniLM-L6-v2 (about 90 MB) and use it
  kura models pull sentence-transformers/all-MiniLM-L6-v2
  kura embed --embedder minilm ...

  # What is installed?
  kura models list`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newModelsPullCmd(), newModelsListCmd())
	return cmd
}

type modelsPullFlags struct {
	revision string
	cacheDir string
}

func newModelsPullCmd() *cobra.Command {
	var f modelsPullFlags
	cmd := &cobra.Command{
		Use:   "pull [ORG/NAME]",
		Short: "Download a sentence-embedding model from the Hugging Face hub",
		Long: `pull downloads a BERT sentence-transformers model from the Hugging Face hub
into kura's model cache (default: ` + minilm.DefaultModel + `):
config.json, model.safetensors, the tokenizer files and the
sentence-transformers configuration.

Every file is checked against the hub's checksum (SHA-256 for the weights).
An interrupted download resumes where it stopped when the command is run
again; files appear in the cache only once complete and verified.

HF_ENDPOINT sets the hub's address (default https://huggingface.co, e.g. a
mirror); HF_TOKEN is sent as a bearer token for private or gated models.`,
		Example: `  kura models pull sentence-transformers/all-MiniLM-L6-v2
  kura models pull BAAI/bge-small-en-v1.5 --revision main
  HF_ENDPOINT=https://hf-mirror.example \
      kura models pull --cache-dir /srv/models`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			repo := minilm.DefaultModel
			if len(args) == 1 {
				repo = args[0]
			}
			if err := hfhub.ValidateRepo(repo); err != nil {
				return usageErrorf("%v", err)
			}
			cache, err := modelsCache(f.cacheDir)
			if err != nil {
				return err
			}
			dest := hfhub.ModelDir(cache, repo)
			c := hfhub.NewClient()
			info, err := c.Pull(cmd.Context(), repo, dest, hfhub.PullOptions{
				Revision: f.revision,
				NewProgress: func(total int64) hfhub.Progress {
					return progress.New(cmd.ErrOrStderr(), "pull "+repo, total, stderrIsTerminal())
				},
			})
			if err != nil {
				return err
			}
			for _, f := range info.Unverified {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: the hub gave no checksum for %s; it was installed after a size check only (recorded as unverified in %s)\n", f, hfhub.ManifestName)
			}
			rev := info.Revision
			if info.SHA != "" {
				rev += " (" + info.SHA + ")"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s@%s is in %s\n", repo, rev, dest)
			if cache != defaultCacheOrEmpty() {
				fmt.Fprintf(cmd.OutOrStdout(), "use it with --model-dir %s (or KURA_MODEL_DIR)\n", dest)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&f.revision, "revision", "main", "branch, tag or commit to download")
	cmd.Flags().StringVar(&f.cacheDir, "cache-dir", "", "model cache folder (default $KURA_CACHE_DIR/models or the user cache dir's kura/models)")
	return cmd
}

func defaultCacheOrEmpty() string {
	d, _ := hfhub.CacheDir()
	return d
}

func modelsCache(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	return hfhub.CacheDir()
}

func newModelsListCmd() *cobra.Command {
	var cacheDir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the embedding models installed in kura's cache and the Hugging Face cache",
		Example: `  kura models list
  kura models list --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cache, err := modelsCache(cacheDir)
			if err != nil {
				return err
			}
			list, err := hfhub.List(cache)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if list == nil {
					list = []hfhub.Installed{}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			if len(list) == 0 {
				fmt.Fprintf(out, "no models installed in %s or the Hugging Face cache; install one with\n  kura models pull %s\n", cache, minilm.DefaultModel)
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "MODEL\tSOURCE\tSIZE\tPATH")
			for _, m := range list {
				fmt.Fprintf(tw, "%s\t%s\t%.1f MB\t%s\n", m.Repo, m.Source, float64(m.Bytes)/1e6, m.Dir)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&cacheDir, "cache-dir", "", "model cache folder (default $KURA_CACHE_DIR/models or the user cache dir's kura/models)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
