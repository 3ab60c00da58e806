package pipeline

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/internal/outfile"
	"github.com/kura-go/kura/knn"
	"github.com/kura-go/kura/reduce"
)

// ConversationMapName is the conversation-level map: one JSON line per
// conversation with its 2-D coordinates and base cluster.
const ConversationMapName = "conversation_map.jsonl"

// MapOptions configure the map stage.
type MapOptions struct {
	// Skip leaves the map stage out (no dimensionality file).
	Skip bool
	// UMAP are the projection's parameters; the zero value means
	// DefaultMapOptions' (n_neighbors 15, min_dist 0.1, cosine, seed 42).
	UMAP reduce.UMAPParams
}

// DefaultMapParams returns the map's UMAP parameters: umap-learn's defaults
// with the cosine metric, seeded.
func DefaultMapParams() reduce.UMAPParams {
	p := reduce.DefaultUMAPParams()
	p.Metric = knn.Cosine
	return p
}

func (o MapOptions) params() reduce.UMAPParams {
	if o.UMAP.NNeighbors == 0 {
		return DefaultMapParams()
	}
	return o.UMAP
}

func (o MapOptions) id() map[string]string {
	p := o.params()
	p.Progress = nil
	p.Workers = 0 // the layout does not depend on it
	return map[string]string{"umap": fmt.Sprintf("%+v", p)}
}

// ConversationPoint is one line of the conversation map.
type ConversationPoint struct {
	ChatID    string  `json:"chat_id"`
	XCoord    float64 `json:"x_coord"`
	YCoord    float64 `json:"y_coord"`
	ClusterID *string `json:"cluster_id"` // base cluster; null only when the conversation is in none
}

// levels returns each cluster's depth below its root (roots 0), in O(k)
// for k clusters, and an error when a parent id names no cluster or the
// parents form a cycle.
func levels(cs []conversation.Cluster) ([]int, error) {
	idx := make(map[string]int, len(cs))
	for i, c := range cs {
		idx[c.ID] = i
	}
	lv := make([]int, len(cs))
	for i := range lv {
		lv[i] = -1
	}
	state := make([]byte, len(cs)) // 0 new, 1 on the current path, 2 done
	var path []int
	for i := range cs {
		path = path[:0]
		j := i
		for state[j] == 0 {
			state[j] = 1
			path = append(path, j)
			p := cs[j].ParentID
			if p == nil {
				break
			}
			k, ok := idx[*p]
			if !ok {
				return nil, fmt.Errorf("cluster %s: parent_id %q names no cluster", cs[j].ID, *p)
			}
			if state[k] == 1 {
				return nil, fmt.Errorf("cluster %s: its parents form a cycle", cs[k].ID)
			}
			j = k
		}
		base := -1
		if state[j] == 2 {
			base = lv[j]
			// j is done; path does not include it.
		} else {
			// path ends at a root.
			base = -1
		}
		for k := len(path) - 1; k >= 0; k-- {
			base++
			lv[path[k]] = base
			state[path[k]] = 2
		}
	}
	return lv, nil
}

func (r *runner) mapStage(ctx context.Context, sc *stageCtx, sumName, metaName, dimName string) error {
	sums, x, d, err := r.readSummaryVectors(sumName)
	if err != nil {
		return err
	}
	n := len(sums)
	all, err := conversation.ReadFile[conversation.Cluster](r.path(metaName), conversation.ReadOptions{})
	if err != nil {
		return err
	}
	p := r.o.Map.params()
	epochs := 0
	p.Progress = func(done, total int) {
		if epochs == 0 {
			sc.newBar("map", total)
		}
		sc.bar.Add(int64(done - epochs))
		epochs = done
	}
	xy, err := reduce.UMAP(ctx, x, n, d, p)
	if err != nil {
		return err
	}
	if len(xy) != 2*n {
		return fmt.Errorf("projection returned %d values for %d conversations, want %d", len(xy), n, 2*n)
	}
	index := make(map[string]int, n)
	for i := range sums {
		index[sums[i].ChatID] = i
	}
	lv, err := levels(all)
	if err != nil {
		return err
	}
	// A conversation's base cluster is the deepest cluster listing it.
	baseOf := make([]int, n)
	for i := range baseOf {
		baseOf[i] = -1
	}
	projected := make([]conversation.ProjectedCluster, len(all))
	for ci, c := range all {
		sx, sy := 0.0, 0.0
		for _, id := range c.ChatIDs {
			i, ok := index[id]
			if !ok {
				return fmt.Errorf("cluster %s lists chat id %q, which has no summary", c.ID, id)
			}
			sx += float64(xy[2*i])
			sy += float64(xy[2*i+1])
			if b := baseOf[i]; b < 0 || lv[ci] > lv[b] {
				baseOf[i] = ci
			}
		}
		k := math.Max(1, float64(len(c.ChatIDs)))
		projected[ci] = conversation.ProjectedCluster{Cluster: c, XCoord: sx / k, YCoord: sy / k, Level: lv[ci]}
	}
	if err := conversation.WriteFile(r.path(dimName), projected); err != nil {
		return err
	}
	f, err := outfile.Create(r.path(ConversationMapName))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := range sums {
		p := ConversationPoint{ChatID: sums[i].ChatID, XCoord: float64(xy[2*i]), YCoord: float64(xy[2*i+1])}
		if b := baseOf[i]; b >= 0 {
			id := all[b].ID
			p.ClusterID = &id
		}
		if err := enc.Encode(p); err != nil {
			f.Abort()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Abort()
		return err
	}
	sc.st.Items = n
	return f.Commit()
}
