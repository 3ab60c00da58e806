package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/pipeline"
)

func init() { register(newTreeCmd) }

type treeFlags struct {
	depth int
	json  bool
	width int
}

func newTreeCmd() *cobra.Command {
	var f treeFlags
	cmd := &cobra.Command{
		Use:   "tree DIR",
		Short: "Show a checkpoint's cluster hierarchy as a tree with counts, shares and bars",
		Long: `tree prints the cluster hierarchy of a Kura checkpoint directory (its
meta_clusters file, else its clusters file) as a tree: each cluster with its
number of conversations, its share of all of them and a bar, children sorted
by size. The group of conversations HDBSCAN left as noise is marked
"(unclustered)". Lines fit in --width columns (80); long names are cut.`,
		Example: `  kura run --data ./checkpoints --out ./kura-run
  kura tree ./kura-run
  kura tree --depth 1 ./kura-run
  kura tree --json ./kura-run > tree.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runTree(cmd, args[0], f) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.depth, "depth", 0, "levels to show (0: all)")
	fl.BoolVar(&f.json, "json", false, "print the tree as JSON")
	fl.IntVar(&f.width, "width", 80, "line width in columns (at least 40)")
	return cmd
}

func runTree(cmd *cobra.Command, path string, f treeFlags) error {
	if f.depth < 0 {
		return usageErrorf("--depth must be 0 (all levels) or more, not %d", f.depth)
	}
	if f.width < 40 {
		return usageErrorf("--width must be at least 40, not %d", f.width)
	}
	file := path
	if fi, err := os.Stat(path); err != nil {
		return err
	} else if fi.IsDir() {
		cp, err := conversation.FindCheckpoint(path)
		if err != nil {
			return err
		}
		file = cp.MetaClusters
		if file == "" {
			file = cp.Clusters
		}
		if file == "" {
			return fmt.Errorf("%s has no meta_clusters or clusters file (run kura run first)", path)
		}
	}
	clusters, err := conversation.ReadFile[conversation.Cluster](file, conversation.ReadOptions{})
	if err != nil {
		return err
	}
	t, err := pipeline.BuildTree(clusters)
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(file), err)
	}
	if f.json {
		return writeTreeJSON(cmd.OutOrStdout(), t, f.depth)
	}
	t.Render(cmd.OutOrStdout(), pipeline.RenderOptions{Depth: f.depth, Width: f.width})
	return nil
}

func writeTreeJSON(w io.Writer, t *pipeline.Tree, depth int) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(t.JSON(depth))
}
