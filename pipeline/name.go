package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/internal/parallel"
	"github.com/kura-go/kura/llm"
)

// NameOptions choose how clusters are named.
type NameOptions struct {
	// Method is "keywords" (offline c-TF-IDF) or "llm".
	Method string
	// MaxExamples caps the summaries of the cluster shown to the model
	// (default 25), sampled with Seed.
	MaxExamples int
	// MaxContrastive caps the summaries of the nearest other clusters
	// shown as counter-examples (default 10).
	MaxContrastive int
	// NearestClusters is how many of the nearest clusters (by centroid
	// cosine) the counter-examples come from (default 3).
	NearestClusters int
	// Seed seeds the sampling of examples.
	Seed uint64
}

func (o NameOptions) withDefaults() NameOptions {
	if o.Method == "" {
		o.Method = "keywords"
	}
	if o.MaxExamples <= 0 {
		o.MaxExamples = 25
	}
	if o.MaxContrastive < 0 {
		o.MaxContrastive = 0
	} else if o.MaxContrastive == 0 {
		o.MaxContrastive = 10
	}
	if o.NearestClusters <= 0 {
		o.NearestClusters = 3
	}
	return o
}

func (o NameOptions) params(m ChatModel) map[string]string {
	o = o.withDefaults()
	p := map[string]string{"method": o.Method}
	if o.Method == "llm" {
		p["model"] = m.Model()
		p["temperature"] = ftoa(m.Temperature())
		p["prompt"] = shortHash(nameSystem + nameInstructions + string(nameSchema))
		p["examples"] = fmt.Sprintf("%d/%d/%d/%d", o.MaxExamples, o.MaxContrastive, o.NearestClusters, o.Seed)
	}
	return p
}

// named is a cluster's name, description and slug.
type named struct{ name, description, slug string }

// noiseName describes the noise group.
func noiseName(n int) named {
	return named{
		name:        "Unclustered conversations (HDBSCAN noise)",
		description: fmt.Sprintf("%d conversations that HDBSCAN left as noise: they are not close enough to enough others to form a group. This is not a topic.", n),
		slug:        NoiseSlug,
	}
}

// keywordNames names groups by c-TF-IDF over their summaries, against the
// other groups. The description gives the size and the summary nearest to
// the centroid.
func keywordNames(sums []conversation.ConversationSummary, x []float32, d int, gs []group) []named {
	docs := make([][]string, len(gs))
	for i, g := range gs {
		if g.noise {
			continue
		}
		for _, m := range g.members {
			docs[i] = append(docs[i], docText(&sums[m]))
		}
	}
	kw := Keywords(docs, 6)
	out := make([]named, len(gs))
	for i, g := range gs {
		if g.noise {
			out[i] = noiseName(len(g.members))
			continue
		}
		name, slug := keywordName(kw[i])
		best, bestSim := g.members[0], -2.0
		for _, m := range g.members {
			if s := cosine(x[m*d:(m+1)*d], g.centroid); s > bestSim {
				best, bestSim = m, s
			}
		}
		out[i] = named{
			name:        name,
			description: fmt.Sprintf("%d conversations; key terms: %s. Most typical: %s", len(g.members), strings.Join(kw[i], ", "), sums[best].Summary),
			slug:        slug,
		}
	}
	return out
}

const nameSystem = `You name groups of conversations between users and an AI assistant, so
that someone browsing them sees at once what each group is about and how it
differs from similar groups. Do not include names of people or organisations,
or any other personal data. Answer with JSON only.`

const nameInstructions = `The user sends summaries of conversations in one group, and, for
contrast, summaries from the most similar other groups; your name must NOT
describe the contrasting ones. Describe the group:
- description: two sentences in the past tense saying what the users asked for
  and what the assistant did, specific enough to tell this group apart from the
  contrasting ones.
- name: at most ten words, an imperative sentence such as "Debug Python import
  errors in web applications", as specific as the group allows.
- slug: two to four lower-case words joined by underscores.`

const nameData = `<group>
%s
</group>

<contrast>
%s
</contrast>`

var nameSchema = json.RawMessage(`{"type":"object","properties":{` +
	`"description":{"type":"string"},"name":{"type":"string"},"slug":{"type":"string"}},` +
	`"required":["description","name","slug"],"additionalProperties":false}`)

type nameAnswer struct {
	Description string `json:"description"`
	Name        string `json:"name"`
	Slug        string `json:"slug"`
}

func (a *nameAnswer) check() error {
	if strings.TrimSpace(a.Name) == "" || strings.TrimSpace(a.Description) == "" {
		return errors.New("empty name or description")
	}
	return nil
}

func (a *nameAnswer) named() named {
	words := strings.Fields(a.Name)
	if len(words) > 10 {
		words = words[:10]
	}
	slug := slugify(a.Slug)
	if slug == "cluster" {
		slug = slugify(a.Name)
	}
	return named{name: strings.Join(words, " "), description: strings.TrimSpace(a.Description), slug: slug}
}

// sampleInts returns up to k of xs chosen with rng, in their original order.
func sampleInts(xs []int, k int, rng *rand.Rand) []int {
	if len(xs) <= k {
		return xs
	}
	idx := rng.Perm(len(xs))[:k]
	sort.Ints(idx)
	out := make([]int, k)
	for i, j := range idx {
		out[i] = xs[j]
	}
	return out
}

// nearest returns the indices of the k groups whose centroids are nearest
// to group i's (noise excluded).
func nearest(gs []group, i, k int) []int {
	type cand struct {
		j   int
		sim float64
	}
	var cs []cand
	for j := range gs {
		if j != i && !gs[j].noise {
			cs = append(cs, cand{j, cosine(gs[i].centroid, gs[j].centroid)})
		}
	}
	sort.Slice(cs, func(a, b int) bool {
		if cs[a].sim != cs[b].sim {
			return cs[a].sim > cs[b].sim
		}
		return cs[a].j < cs[b].j
	})
	out := make([]int, 0, k)
	for _, c := range cs[:min(k, len(cs))] {
		out = append(out, c.j)
	}
	return out
}

func bullets(sums []conversation.ConversationSummary, idx []int) string {
	if len(idx) == 0 {
		return "(none)"
	}
	var b strings.Builder
	for _, i := range idx {
		b.WriteString("- ")
		b.WriteString(strings.Join(strings.Fields(sums[i].Summary), " "))
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}

// llmNames names each group with the model, Clio-style: a sample of its
// summaries, and counter-examples from the nearest other groups. Calls run
// concurrently (the client bounds them).
func llmNames(ctx context.Context, m ChatModel, o NameOptions, sums []conversation.ConversationSummary, gs []group, st *StageStats, onItem func()) ([]named, error) {
	o = o.withDefaults()
	out := make([]named, len(gs))
	var mu sync.Mutex
	err := parallel.Each(ctx, len(gs), maxLLMCalls, func(ctx context.Context, i int) error {
		if gs[i].noise {
			out[i] = noiseName(len(gs[i].members))
			onItem()
			return nil
		}
		rng := rand.New(rand.NewPCG(o.Seed, uint64(i)))
		pos := sampleInts(gs[i].members, o.MaxExamples, rng)
		var neg []int
		near := nearest(gs, i, o.NearestClusters)
		for k, j := range near {
			// Spread the counter-examples over the nearest groups.
			share := o.MaxContrastive / len(near)
			if k < o.MaxContrastive%len(near) {
				share++
			}
			neg = append(neg, sampleInts(gs[j].members, share, rng)...)
		}
		req := llm.Request{System: nameSystem + "\n\n" + nameInstructions, User: fmt.Sprintf(nameData, bullets(sums, pos), bullets(sums, neg)),
			SchemaName: "cluster_name", Schema: nameSchema, MaxTokens: 400}
		var a nameAnswer
		u, err := m.JSON(ctx, req, &a, a.check)
		mu.Lock()
		st.addLLM(u)
		mu.Unlock()
		if err != nil {
			return fmt.Errorf("naming cluster %d of %d: %w", i+1, len(gs), err)
		}
		out[i] = a.named()
		onItem()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// maxLLMCalls bounds the LLM calls a stage starts at once (the client
// bounds those in flight further).
const maxLLMCalls = 64
