package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/kura-go/kura/cluster"
	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/internal/f32"
)

// clusterParams are the cluster stage's parameters for the manifest: every
// field of the spec under its JSON name, so that any change reruns the
// stage and the run says which ("k 0 -> 6").
func clusterParams(s cluster.Spec) map[string]string {
	b, err := json.Marshal(s)
	var fields map[string]json.RawMessage
	if err == nil {
		err = json.Unmarshal(b, &fields)
	}
	if err != nil { // not a plain value (a NaN): still a key that changes with it
		return map[string]string{"cluster": fmt.Sprintf("%+v", s)}
	}
	out := make(map[string]string, len(fields))
	for k, v := range fields {
		out[k] = strings.Trim(string(v), `"`)
	}
	return out
}

// clusterVectors assigns each of the n rows of x (n×d) a cluster label,
// -1 for HDBSCAN noise, through cluster.Run.
func clusterVectors(ctx context.Context, x []float32, n, d int, s cluster.Spec) ([]int, error) {
	switch {
	case n == 0:
		return nil, nil
	case n == 1 && s.Algorithm == "hdbscan":
		return []int{-1}, nil // one conversation is no cluster
	}
	res, err := cluster.Run(ctx, s, x, n, d)
	if err != nil {
		return nil, err
	}
	return res.Labels, nil
}

// NoiseSlug marks the group of conversations HDBSCAN left as noise: it is
// kept as one clearly named group, not presented as a topic.
const NoiseSlug = "unclustered"

// group is a set of conversations (indices into the summaries) with its
// normalised centroid.
type group struct {
	members  []int
	centroid []float32
	noise    bool
}

// groupsOf collects the clusters of labels (label order) and, last, the
// noise group when there is noise.
func groupsOf(labels []int, x []float32, d int) []group {
	k := 0
	for _, l := range labels {
		k = max(k, l+1)
	}
	gs := make([]group, k)
	var noise group
	noise.noise = true
	for i, l := range labels {
		if l < 0 {
			noise.members = append(noise.members, i)
		} else {
			gs[l].members = append(gs[l].members, i)
		}
	}
	gs = slices.DeleteFunc(gs, func(g group) bool { return len(g.members) == 0 })
	if len(noise.members) > 0 {
		gs = append(gs, noise)
	}
	for i := range gs {
		gs[i].centroid = centroid(x, d, gs[i].members)
	}
	return gs
}

// centroid is the normalised mean of the normalised rows.
func centroid(x []float32, d int, rows []int) []float32 {
	c := make([]float64, d)
	for _, r := range rows {
		v := x[r*d : (r+1)*d]
		nn := 0.0
		for _, f := range v {
			nn += float64(f) * float64(f)
		}
		if nn == 0 {
			continue
		}
		s := 1 / math.Sqrt(nn)
		for j, f := range v {
			c[j] += float64(f) * s
		}
	}
	out := make([]float32, d)
	nn := 0.0
	for _, f := range c {
		nn += f * f
	}
	if nn > 0 {
		s := 1 / math.Sqrt(nn)
		for j, f := range c {
			out[j] = float32(f * s)
		}
	}
	return out
}

// cosine is the dot product of two unit vectors.
func cosine(a, b []float32) float64 { return float64(f32.Dot(a, b)) }

// clusterID is a stable id for a set of chat ids: the same members give
// the same id in every run, so that files and fingerprints stay stable.
func clusterID(kind string, chatIDs []string) string {
	ids := slices.Clone(chatIDs)
	slices.Sort(ids)
	h := sha256.New()
	h.Write([]byte(kind))
	for _, id := range ids {
		h.Write([]byte{0})
		h.Write([]byte(id))
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func chatIDsOf(sums []conversation.ConversationSummary, members []int) []string {
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = sums[m].ChatID
	}
	return ids
}

// docText is the text of a summary that keyword names are computed from.
func docText(s *conversation.ConversationSummary) string {
	t := s.Summary
	if s.Request != nil {
		t += "\n" + *s.Request
	}
	if s.Task != nil {
		t += "\n" + *s.Task
	}
	return t
}
