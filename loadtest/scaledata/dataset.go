// Package scaledata makes a load test's data: it loads the baseline (a Kura
// checkpoint, record files, or the built-in sample corpus) and builds the
// dataset of each scale from it, a stratified subsample below the
// baseline's size and above it the baseline plus new, distinct records
// recombined within each ground-truth cluster, deterministically for a seed.
package scaledata

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/ingest"
)

// Record kinds: what a baseline holds and what gets embedded.
const (
	KindSummaries     = "summaries"     // summaries, embedded as ConversationSummary.Text
	KindConversations = "conversations" // conversations, embedded as Conversation.Text
)

// Baseline is the data a load test scales from: summaries or conversations
// and, when known, the clusters they belong to (the ground truth).
type Baseline struct {
	Source string
	Kind   string
	Records
	Clusters []conversation.Cluster // ground truth; may be empty
	// Labels[i] is record i's index in Clusters, or -1 when it has none.
	Labels []int
}

// Len is the number of records.
func (b *Baseline) Len() int { return lookupKind(b.Kind).len(&b.Records) }

// Info summarises the baseline for the results.
func (b *Baseline) Info() Info {
	in := Info{Source: b.Source, Kind: b.Kind, Records: b.Len(), Clusters: len(b.Clusters)}
	for _, l := range b.Labels {
		if l >= 0 {
			in.Labeled++
		}
	}
	return in
}

func (b *Baseline) chatID(i int) string { return lookupKind(b.Kind).chatID(&b.Records, i) }

// Text is what gets embedded for record i.
func (b *Baseline) Text(i int) string { return lookupKind(b.Kind).text(&b.Records, i) }

// Load reads the baseline named by data (a checkpoint directory, or a
// comma-separated list of files named summaries*, conversations* and
// clusters*), or calls sample when data is empty. Conversations are read
// through package ingest, so a conversations file may also be Kura's
// conversations.json or a Claude.ai or ChatGPT export (told by content),
// and a directory with only a conversations.json is taken.
func Load(ctx context.Context, data string, sample func(context.Context) (*Baseline, error)) (*Baseline, error) {
	if data == "" {
		if sample == nil {
			return nil, fmt.Errorf("no --data given and no built-in sample corpus available")
		}
		b, err := sample(ctx)
		if err != nil {
			return nil, fmt.Errorf("built-in sample corpus: %w", err)
		}
		return b, b.check()
	}
	var sumPath, convPath, clusterPath string
	for _, p := range strings.Split(data, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("--data: %w", err)
		}
		if fi.IsDir() {
			cp, err := conversation.FindCheckpoint(p)
			if err != nil {
				dump := filepath.Join(p, "conversations.json")
				if fi, serr := os.Stat(dump); serr == nil && !fi.IsDir() {
					convPath = dump
					continue
				}
				return nil, fmt.Errorf("--data %s: %w", p, err)
			}
			sumPath, convPath, clusterPath = pick(sumPath, cp.Summaries), pick(convPath, cp.Conversations), pick(clusterPath, cp.Clusters)
			continue
		}
		base := strings.ToLower(filepath.Base(p))
		switch {
		case strings.HasPrefix(base, "summaries"):
			sumPath = p
		case strings.HasPrefix(base, "conversations"):
			convPath = p
		case strings.HasPrefix(base, "clusters"):
			clusterPath = p
		default:
			// A JSON array of conversations: Kura's conversations.json or a
			// Claude.ai or ChatGPT export.
			if f, err := ingest.Detect(p); err == nil && (f == ingest.KuraJSON || f == ingest.Claude || f == ingest.ChatGPT) {
				convPath = p
				continue
			}
			return nil, fmt.Errorf("--data %s: cannot tell what the file holds; name it summaries.jsonl, conversations.jsonl or clusters.jsonl (or .parquet), or give a conversations.json export", p)
		}
	}
	b := &Baseline{Source: data}
	var err error
	switch {
	case sumPath != "":
		b.Kind = KindSummaries
		if b.Summaries, err = conversation.ReadFile[conversation.ConversationSummary](sumPath, conversation.ReadOptions{}); err != nil {
			return nil, err
		}
	case convPath != "":
		b.Kind = KindConversations
		if _, err = ingest.Read(ctx, convPath, ingest.Options{}, func(c *conversation.Conversation) error {
			b.Conversations = append(b.Conversations, *c)
			return nil
		}); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("--data %s: no summaries or conversations found", data)
	}
	if clusterPath != "" {
		cl, err := conversation.ReadFile[conversation.Cluster](clusterPath, conversation.ReadOptions{})
		if err != nil {
			return nil, err
		}
		b.Clusters = leafClusters(cl)
	}
	b.Labels = labelsFor(b, b.Clusters)
	return b, b.check()
}

func pick(old, v string) string {
	if v != "" {
		return v
	}
	return old
}

func (b *Baseline) check() error {
	if b.Len() < 2 {
		return fmt.Errorf("baseline %s: %d records; need at least 2", b.Source, b.Len())
	}
	if len(b.Labels) != b.Len() {
		b.Labels = labelsFor(b, b.Clusters)
	}
	return nil
}

// leafClusters keeps the clusters that are no other cluster's parent, so a
// hierarchical clusters file gives each chat one ground-truth cluster.
func leafClusters(cl []conversation.Cluster) []conversation.Cluster {
	parents := map[string]bool{}
	for _, c := range cl {
		if c.ParentID != nil {
			parents[*c.ParentID] = true
		}
	}
	var out []conversation.Cluster
	for _, c := range cl {
		if !parents[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

func labelsFor(b *Baseline, cl []conversation.Cluster) []int {
	of := map[string]int{}
	for g, c := range cl {
		for _, id := range c.ChatIDs {
			if _, dup := of[id]; !dup {
				of[id] = g
			}
		}
	}
	labels := make([]int, b.Len())
	for i := range labels {
		if g, ok := of[b.chatID(i)]; ok {
			labels[i] = g
		} else {
			labels[i] = -1
		}
	}
	return labels
}

// Info describes the data the scales were made from.
type Info struct {
	Source   string `json:"source"`   // the --data path, or "built-in sample corpus"
	Kind     string `json:"kind"`     // "summaries" or "conversations": what is embedded
	Records  int    `json:"records"`  // records in the baseline
	Clusters int    `json:"clusters"` // ground-truth clusters
	Labeled  int    `json:"labeled"`  // records that belong to a ground-truth cluster
}

// Dataset is the data of one scale: a subsample of the baseline, or the
// baseline plus generated records that keep its cluster structure.
type Dataset struct {
	Kind string
	Records
	// Clusters is the ground truth of the dataset: the baseline's clusters
	// with the chat ids present at this scale (generated records included).
	Clusters []conversation.Cluster
	// Generated counts the records made from the baseline.
	Generated int
	// Fallbacks counts generated records that recombination could not make
	// distinct, so a numbered closing clause was added.
	Fallbacks int
	// Rewritten counts baseline records whose text repeated an earlier
	// record's and were rewritten as distinct variants.
	Rewritten int
}

// Len is the number of records.
func (d *Dataset) Len() int { return lookupKind(d.Kind).len(&d.Records) }

// Text is what gets embedded for record i.
func (d *Dataset) Text(i int) string { return lookupKind(d.Kind).text(&d.Records, i) }

// ChatID is record i's chat id.
func (d *Dataset) ChatID(i int) string { return lookupKind(d.Kind).chatID(&d.Records, i) }

// Build returns n records made from the baseline, deterministically
// for seed, in memory; see Generate, which makes the same records one at a
// time.
func Build(ctx context.Context, b *Baseline, n int, seed int64) (*Dataset, error) {
	d := &Dataset{Kind: b.Kind}
	k := lookupKind(b.Kind)
	st, clusters, err := Generate(ctx, b, n, seed, func(r Record) error {
		k.add(&d.Records, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	d.Clusters, d.Generated, d.Fallbacks, d.Rewritten = clusters, st.Generated, st.Fallbacks, st.Rewritten
	return d, nil
}

// Record is one record of a scale's dataset, as Generate hands it over:
// a summary or a conversation (by the baseline's Kind), and its ground
// truth.
type Record struct {
	Summary      *conversation.ConversationSummary // when Kind == KindSummaries
	Conversation *conversation.Conversation        // when Kind == KindConversations
	// Label is the record's ground-truth cluster: an index into the
	// baseline's Clusters, or -1 for none.
	Label int
}

// Stats counts how a dataset was made.
type Stats struct {
	Generated int // records made from the baseline
	Fallbacks int // generated records closed with the numbered clause
	Rewritten int // baseline records whose repeated text was rewritten
}

// Generate makes n records from the baseline, deterministically for seed,
// and hands them to emit one at a time, in order. Below the baseline's size
// it is a stratified subsample (each ground-truth cluster keeps its share);
// above, all baseline records plus new ones, each generated within one
// cluster by recombining sentences and clauses of that cluster's records
// and by light paraphrase, so it keeps that cluster as its ground truth. No
// two records have the same embedded text unless the baseline itself
// repeats one.
//
// It keeps no record once emit has returned: texts are told apart by
// 128-bit fingerprints (SHA-256, truncated), so its memory besides the
// baseline is a fingerprint per record and the chat ids of the ground
// truth. emit must not keep the record's pointers past its return if the
// caller modifies them. It returns the ground-truth clusters: the
// baseline's, with the chat ids present at this scale.
func Generate(ctx context.Context, b *Baseline, n int, seed int64, emit func(Record) error) (Stats, []conversation.Cluster, error) {
	if n < 1 {
		return Stats{}, nil, fmt.Errorf("scale %d: need at least one record", n)
	}
	g := &generator{b: b, rng: rand.New(rand.NewPCG(uint64(seed), uint64(n))), emit: emit,
		seen: make(map[fingerprint]struct{}, max(n, b.Len()))}
	strata := strataOf(b)
	var picked []int
	if n <= b.Len() {
		counts := allocate(n, sizes(strata))
		for s, st := range strata {
			perm := g.rng.Perm(len(st.members))
			for _, k := range perm[:counts[s]] {
				picked = append(picked, st.members[k])
			}
		}
		sort.Ints(picked)
	} else {
		picked = make([]int, b.Len())
		for i := range picked {
			picked[i] = i
		}
	}
	members := make([][]string, len(b.Clusters))
	pool := map[int][]int{}
	for _, st := range strata {
		pool[st.label] = st.members
	}
	for k, i := range picked {
		if k%256 == 0 {
			if err := ctx.Err(); err != nil {
				return g.st, nil, err
			}
		}
		label := b.Labels[i]
		if label >= 0 {
			members[label] = append(members[label], b.chatID(i))
		}
		fp := fingerprintOf(b.Text(i))
		if _, dup := g.seen[fp]; dup {
			// The baseline repeats a text: keep the record (its chat id and
			// cluster) but rewrite it as a distinct variant.
			if err := g.addDistinct(i, pool[label], b.chatID(i), label, i+1); err != nil {
				return g.st, nil, err
			}
			g.st.Rewritten++
			continue
		}
		g.seen[fp] = struct{}{}
		r := lookupKind(b.Kind).record(&b.Records, i)
		r.Label = label
		if err := emit(r); err != nil {
			return g.st, nil, err
		}
	}
	if extra := n - b.Len(); extra > 0 {
		if err := g.generate(ctx, strata, extra, members); err != nil {
			return g.st, nil, err
		}
	}
	var clusters []conversation.Cluster
	for l, c := range b.Clusters {
		if len(members[l]) == 0 {
			continue
		}
		c.ChatIDs = members[l]
		c.ParentID = nil
		clusters = append(clusters, c)
	}
	return g.st, clusters, nil
}

// fingerprint identifies a text: the first 128 bits of its SHA-256.
type fingerprint [16]byte

func fingerprintOf(s string) fingerprint {
	h := sha256.Sum256([]byte(s))
	return fingerprint(h[:16])
}

// generator is Generate's state: the random source, the fingerprints of
// the texts and chat ids made so far, and where the records go.
type generator struct {
	b    *Baseline
	rng  *rand.Rand
	emit func(Record) error
	seen map[fingerprint]struct{} // texts
	ids  map[fingerprint]struct{} // chat ids, once records are generated
	st   Stats
}

type stratum struct {
	label   int // ground-truth cluster, -1 for records without one
	members []int
}

// strataOf groups record indices by ground-truth cluster, in cluster order,
// with the unlabelled records last.
func strataOf(b *Baseline) []stratum {
	by := map[int][]int{}
	for i, l := range b.Labels {
		by[l] = append(by[l], i)
	}
	var out []stratum
	for g := range b.Clusters {
		if len(by[g]) > 0 {
			out = append(out, stratum{g, by[g]})
		}
	}
	if len(by[-1]) > 0 {
		out = append(out, stratum{-1, by[-1]})
	}
	return out
}

func sizes(st []stratum) []int {
	s := make([]int, len(st))
	for i := range st {
		s[i] = len(st[i].members)
	}
	return s
}

// allocate splits n over groups in proportion to their weights by the
// largest-remainder method (ties to the earlier group). The sum is n.
func allocate(n int, weights []int) []int {
	total := 0
	for _, w := range weights {
		total += w
	}
	out := make([]int, len(weights))
	if total == 0 {
		return out
	}
	type rem struct {
		i int
		r float64
	}
	rs := make([]rem, len(weights))
	used := 0
	for i, w := range weights {
		exact := float64(n) * float64(w) / float64(total)
		out[i] = int(exact)
		used += out[i]
		rs[i] = rem{i, exact - float64(out[i])}
	}
	sort.SliceStable(rs, func(a, b int) bool { return rs[a].r > rs[b].r })
	for k := 0; used < n; k++ {
		out[rs[k%len(rs)].i]++
		used++
	}
	return out
}

// maxAttempts is how many recombinations are tried for a distinct record
// before the numbered fallback clause.
const maxAttempts = 48

// generate emits extra new records, spread over the ground-truth
// clusters in proportion to their size (over all records when there is no
// ground truth).
func (g *generator) generate(ctx context.Context, strata []stratum, extra int, members [][]string) error {
	b := g.b
	gen := strata
	var labelled []stratum
	for _, s := range strata {
		if s.label >= 0 {
			labelled = append(labelled, s)
		}
	}
	if len(labelled) > 0 {
		gen = labelled
	}
	if len(labelled) == 0 {
		all := make([]int, b.Len())
		for i := range all {
			all[i] = i
		}
		gen = []stratum{{-1, all}}
	}
	g.ids = make(map[fingerprint]struct{}, b.Len()+extra)
	for i := 0; i < b.Len(); i++ {
		g.ids[fingerprintOf(b.chatID(i))] = struct{}{}
	}
	counts := allocate(extra, sizes(gen))
	serial := 0
	for s, st := range gen {
		for j := 0; j < counts[s]; j++ {
			if j%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			base := st.members[j%len(st.members)]
			serial++
			id := g.newID(b.chatID(base), serial)
			if err := g.addDistinct(base, st.members, id, st.label, b.Len()+serial); err != nil {
				return err
			}
			g.st.Generated++
			if st.label >= 0 {
				members[st.label] = append(members[st.label], id)
			}
		}
	}
	return nil
}

func (g *generator) newID(base string, serial int) string {
	for k := 0; ; k++ {
		id := fmt.Sprintf("%s~lt%d", base, serial)
		if k > 0 {
			id = fmt.Sprintf("%s~lt%d.%d", base, serial, k)
		}
		fp := fingerprintOf(id)
		if _, dup := g.ids[fp]; !dup {
			g.ids[fp] = struct{}{}
			return id
		}
	}
}

// addDistinct emits a record recombined from base and the records of pool
// whose embedded text was not seen before, and marks its text seen. After
// maxAttempts recombinations it closes the record with a clause numbered
// from serial, unique to this record.
func (g *generator) addDistinct(base int, pool []int, id string, label, serial int) error {
	for a := 0; a < maxAttempts; a++ {
		r, text := g.make(base, pool, id, 0)
		if fp := fingerprintOf(text); !g.has(fp) {
			g.seen[fp] = struct{}{}
			r.Label = label
			return g.emit(r)
		}
	}
	// Recombination found nothing new (a tiny cluster): close the record
	// with a numbered clause, which makes it distinct.
	g.st.Fallbacks++
	for k := 0; ; k++ {
		r, text := g.make(base, pool, id, serial+k*(1<<30))
		if fp := fingerprintOf(text); !g.has(fp) {
			g.seen[fp] = struct{}{}
			r.Label = label
			return g.emit(r)
		}
	}
}

func (g *generator) has(fp fingerprint) bool {
	_, ok := g.seen[fp]
	return ok
}

// make returns one record recombined from base and donors of its stratum,
// and its embedded text. numbered > 0 adds the fallback clause.
func (g *generator) make(base int, pool []int, id string, numbered int) (Record, string) {
	return lookupKind(g.b.Kind).make(g, base, pool, id, numbered)
}

func closing(k int) string {
	return fmt.Sprintf("This was follow-up number %d on the same subject.", k)
}

func withSource(m map[string]any, src string) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	out["loadtest_generated_from"] = src
	return out
}

func recombineSummary(base *conversation.ConversationSummary, b *Baseline, donor func() int, rng *rand.Rand) conversation.ConversationSummary {
	s := *base
	s.Embedding = nil
	s.Summary = recombineText(base.Summary, b.Summaries[donor()].Summary, rng)
	if base.Request != nil {
		s.Request = recombinePtr(base.Request, b.Summaries[donor()].Request, rng)
	}
	if base.Task != nil {
		s.Task = recombinePtr(base.Task, b.Summaries[donor()].Task, rng)
	}
	s.Languages = append([]string(nil), base.Languages...)
	s.AssistantErrors = append([]string(nil), base.AssistantErrors...)
	return s
}

func recombinePtr(base, donor *string, rng *rand.Rand) *string {
	d := ""
	if donor != nil {
		d = *donor
	}
	v := recombineText(*base, d, rng)
	return &v
}

func recombineConversation(base *conversation.Conversation, b *Baseline, donor func() int, rng *rand.Rand) conversation.Conversation {
	c := *base
	c.Messages = make([]conversation.Message, len(base.Messages))
	for i, m := range base.Messages {
		dc := &b.Conversations[donor()]
		other := ""
		if i < len(dc.Messages) && dc.Messages[i].Role == m.Role {
			other = dc.Messages[i].Content
		}
		m.Content = recombineText(m.Content, other, rng)
		c.Messages[i] = m
	}
	return c
}

// recombineText builds a new text from base and donor, two texts of the same
// cluster: sentence by sentence it takes base's or donor's sentence at that
// position, sometimes joins the first clause of one to the rest of the other,
// and paraphrases lightly. It keeps base's sentence count.
func recombineText(base, donor string, rng *rand.Rand) string {
	bs := splitSentences(base)
	ds := splitSentences(donor)
	out := make([]string, len(bs))
	for i, s := range bs {
		if i < len(ds) && rng.IntN(2) == 0 {
			s = ds[i]
		}
		if i < len(ds) && rng.IntN(3) == 0 {
			s = spliceClauses(s, ds[i], bs[i], rng)
		}
		out[i] = paraphrase(s, rng)
	}
	return strings.Join(out, " ")
}

// splitSentences splits text after '.', '!' or '?' followed by a space and
// an upper-case letter or digit. Sentences keep their punctuation.
func splitSentences(t string) []string {
	t = strings.TrimSpace(t)
	if t == "" {
		return nil
	}
	var out []string
	start := 0
	for i := 0; i+2 < len(t); i++ {
		c := t[i]
		if (c == '.' || c == '!' || c == '?') && t[i+1] == ' ' {
			n := t[i+2]
			if n >= 'A' && n <= 'Z' || n >= '0' && n <= '9' {
				out = append(out, strings.TrimSpace(t[start:i+1]))
				start = i + 2
			}
		}
	}
	if s := strings.TrimSpace(t[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

var clauseMarks = []string{", and ", " and then ", ", while ", ", which ", ", including ", ", then ", " and "}

// spliceClauses joins the head of one sentence to the tail of another at a
// shared clause mark, if they have one; otherwise it returns fallback.
func spliceClauses(a, b, fallback string, rng *rand.Rand) string {
	if rng.IntN(2) == 0 {
		a, b = b, a
	}
	for _, m := range clauseMarks {
		i := strings.Index(a, m)
		j := strings.Index(b, m)
		if i > 0 && j > 0 {
			return a[:i] + b[j:]
		}
	}
	return fallback
}

// phrasePairs are light paraphrases applied in either direction.
var phrasePairs = [][2]string{
	{"The user requested", "The user asked for"},
	{"The user asked", "The user wanted to know"},
	{"The assistant provided", "The assistant gave"},
	{"The assistant explained", "The assistant described"},
	{"The assistant offered", "The assistant suggested"},
	{"The user's overall request for the assistant is to", "Overall, the user wants the assistant to"},
	{"The task is to", "The job is to"},
	{"detailed", "thorough"},
	{"explanation", "account"},
	{"including", "covering"},
	{"and then", "and afterwards"},
	{"provided", "supplied"},
	{"specific", "particular"},
	{"information", "details"},
	{"examples", "instances"},
	{"describe", "outline"},
	{"improve", "enhance"},
	{"analyze", "examine"},
	{"various", "several"},
	{"a list of", "a set of"},
	{"guidance", "advice"},
	{"suggestions", "recommendations"},
	{"concise", "brief"},
	{"questions", "queries"},
	{"method", "approach"},
	{"issue", "problem"},
	{"help", "assist"},
	{"create", "produce"},
	{"write", "compose"},
	{"discussed", "talked about"},
	{"also", "additionally"},
	{"however", "still"},
	{"quickly", "promptly"},
	{"clear", "plain"},
}

// paraphrase swaps a few of phrasePairs (whole words only, keeping an
// initial capital), each present pair with probability 1/3.
func paraphrase(s string, rng *rand.Rand) string {
	for _, p := range phrasePairs {
		from, to := p[0], p[1]
		if rng.IntN(2) == 0 {
			from, to = to, from
		}
		if rng.IntN(3) != 0 {
			continue
		}
		s = replaceWord(s, from, to)
	}
	return s
}

// replaceWord replaces the first whole-word occurrence of from (or of from
// with a capital first letter) by to, matching the capital.
func replaceWord(s, from, to string) string {
	for _, cand := range [2][2]string{{from, to}, {capitalize(from), capitalize(to)}} {
		f, t := cand[0], cand[1]
		off := 0
		for {
			i := strings.Index(s[off:], f)
			if i < 0 {
				break
			}
			i += off
			end := i + len(f)
			if (i == 0 || !isWordByte(s[i-1])) && (end == len(s) || !isWordByte(s[end])) {
				return s[:i] + t + s[end:]
			}
			off = i + 1
		}
	}
	return s
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '\'' || c == '_' || c >= 0x80
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
