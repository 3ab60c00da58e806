// Package sample generates kura's built-in sample corpus: synthetic chat
// conversations with Kura summaries on realistic chat-assistant topics
// (coding help, travel planning, cooking, health questions, math tutoring,
// legal questions and more), with the true topic of every conversation as
// ground-truth clusters. It lets the embedding and clustering pipeline, and
// the load tester, run on a fresh machine without any data.
//
// The corpus is deterministic for a seed, streams in constant memory, and no
// two summaries are identical up to at least 1,000,000 conversations per
// topic (see Generator for how this is guaranteed).
package sample

import (
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kura-go/kura/conversation"
)

// Defaults of the sample command.
const (
	DefaultConversations = 1000
	DefaultSeed          = 42
)

// Options selects the corpus to generate.
type Options struct {
	// Conversations is the number of conversations (at least 1).
	Conversations int
	// Topics is the number of topics, 1..NumTopics(); 0 means all of them.
	Topics int
	// Seed makes the corpus deterministic: the same options give the same
	// files byte for byte.
	Seed int64
	// Progress, if set, is called by WriteDir from time to time with the
	// number of conversations written so far.
	Progress func(done int)
}

// Topic describes one topic of the corpus (one ground-truth cluster).
type Topic struct {
	Index       int    // position in Topics(), also the topic number Next returns
	Slug        string // short identifier, also written as metadata "topic"
	Name        string // cluster name, in Kura's imperative style
	Description string // cluster description
}

// NumTopics returns the number of topics available.
func NumTopics() int { return len(topicDefs) }

// Topics returns all available topics, in the order in which --topics K
// selects the first K.
func Topics() []Topic {
	ts := make([]Topic, len(topicDefs))
	for i := range topicDefs {
		d := &topicDefs[i]
		ts[i] = Topic{Index: i, Slug: d.slug, Name: d.name, Description: d.desc}
	}
	return ts
}

// TopicNames returns the names of the first k topics (all if k <= 0).
func TopicNames(k int) []string {
	if k <= 0 || k > len(topicDefs) {
		k = len(topicDefs)
	}
	names := make([]string, k)
	for i := range names {
		names[i] = topicDefs[i].name
	}
	return names
}

// compiled is a topic with its vocabulary split and its combination space.
type compiled struct {
	def      *topicDef
	subjects []string // without the "|lang" suffix
	subjLang []string // language of each subject, "" if none
	nfacts   int      // total number of fact values
	related  []int    // indexes of related topics (see relatedTopics)
	capacity uint64   // number of distinct summaries the topic can produce
	mul, add uint64   // seed-dependent bijection of [0, capacity)
}

// radices of the combination index, in decoding order.
func (c *compiled) radices() [7]uint64 {
	d := c.def
	return [7]uint64{
		uint64(len(summaryTemplates)), uint64(len(outcomeTemplates)),
		uint64(len(d.personas)), uint64(len(c.subjects)), uint64(len(d.actions)),
		uint64(len(d.details)), uint64(c.nfacts),
	}
}

// Generator produces the conversations of a corpus one at a time.
//
// Conversation i belongs to block b = i/K; each block holds every topic once,
// in a seed-dependent order, so topics get equal shares (within one) and
// conversation i is the b-th of its topic. Within a topic, b is mapped by a
// seed-dependent bijection of [0, capacity) to a combination index whose
// mixed-radix digits choose the summary template, the outcome sentence, the
// persona, subject, action, detail and fact (a number). All of them appear in
// the summary, so two conversations of one topic share a summary only if all
// their digits, and hence their indexes, are equal; summaries of different
// topics differ in their subjects, which no two topics share. Every topic's
// capacity is at least MinCapacity, so summaries are unique for any corpus of
// up to MinCapacity conversations per topic, whatever K and the seed.
// The tests check this exhaustively for 1,000,000 conversations.
type Generator struct {
	opts   Options
	topics []compiled
	seed   uint64
	next   int
	// permutation cache for sequential use
	permBlock int
	perm      []int
}

// MinCapacity is a lower bound of the number of distinct summaries per topic.
const MinCapacity = 1_000_000

var topicsCompiled = compileTopics()

func compileTopics() []compiled {
	cs := make([]compiled, len(topicDefs))
	for i := range topicDefs {
		d := &topicDefs[i]
		c := compiled{def: d}
		for _, s := range d.subjects {
			text, lang, _ := strings.Cut(s, "|")
			c.subjects = append(c.subjects, text)
			c.subjLang = append(c.subjLang, lang)
		}
		for _, f := range d.facts {
			c.nfacts += f.n
		}
		c.capacity = 1
		for _, r := range c.radices() {
			c.capacity *= r
		}
		cs[i] = c
	}
	index := map[string]int{}
	for i := range topicDefs {
		index[topicDefs[i].slug] = i
	}
	for _, p := range relatedTopics {
		a, okA := index[p[0]]
		b, okB := index[p[1]]
		if okA && okB {
			cs[a].related = append(cs[a].related, b)
			cs[b].related = append(cs[b].related, a)
		}
	}
	return cs
}

// NewGenerator checks the options and returns a generator positioned at the
// first conversation.
func NewGenerator(opts Options) (*Generator, error) {
	if opts.Conversations < 1 {
		return nil, fmt.Errorf("sample: the number of conversations must be at least 1, not %d", opts.Conversations)
	}
	if opts.Topics == 0 {
		opts.Topics = len(topicDefs)
	}
	if opts.Topics < 1 || opts.Topics > len(topicDefs) {
		return nil, fmt.Errorf("sample: the number of topics must be between 1 and %d (the topics available), not %d", len(topicDefs), opts.Topics)
	}
	g := &Generator{opts: opts, seed: mix64(uint64(opts.Seed) ^ 0x6b75726173616d70), permBlock: -1}
	g.topics = make([]compiled, opts.Topics)
	copy(g.topics, topicsCompiled[:opts.Topics])
	for t := range g.topics {
		c := &g.topics[t]
		h := mix64(g.seed + uint64(t)*0x9e3779b97f4a7c15)
		c.add = h % c.capacity
		// A multiplier coprime to the capacity makes j -> mul*j+add a bijection.
		m := (mix64(h) % c.capacity) | 1
		for gcd(m, c.capacity) != 1 {
			m += 2
		}
		c.mul = m % c.capacity
	}
	return g, nil
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Options returns the generator's options, with Topics filled in.
func (g *Generator) Options() Options { return g.opts }

// Topics returns the topics of this corpus (the first K of Topics()).
func (g *Generator) Topics() []Topic { return Topics()[:len(g.topics)] }

// Len returns the number of conversations of the corpus (Options.Conversations).
func (g *Generator) Len() int { return g.opts.Conversations }

// More reports whether Next has returned fewer than Len conversations.
func (g *Generator) More() bool { return g.next < g.opts.Conversations }

// Next returns the next conversation, its summary and its topic number
// (an index into Topics()). It may be called beyond Len: the sequence goes
// on, and stays free of duplicate summaries up to MinCapacity
// conversations per topic.
func (g *Generator) Next() (conversation.Conversation, conversation.ConversationSummary, int) {
	i := g.next
	g.next++
	k := len(g.topics)
	if b := i / k; b != g.permBlock {
		g.perm = g.blockPerm(b, g.perm)
		g.permBlock = b
	}
	return g.build(i, g.perm[i%k], true)
}

// NextSummary is Next without the conversation: it returns the same summary
// and topic with about half the allocations, for callers that only need
// summaries.
func (g *Generator) NextSummary() (conversation.ConversationSummary, int) {
	i := g.next
	g.next++
	k := len(g.topics)
	if b := i / k; b != g.permBlock {
		g.perm = g.blockPerm(b, g.perm)
		g.permBlock = b
	}
	_, s, t := g.build(i, g.perm[i%k], false)
	return s, t
}

// At returns conversation i (0-based) without changing the position of
// Next. It is safe to call from several goroutines at once.
func (g *Generator) At(i int) (conversation.Conversation, conversation.ConversationSummary, int) {
	return g.build(i, g.TopicOf(i), true)
}

// TopicOf returns the topic number of conversation i.
func (g *Generator) TopicOf(i int) int {
	k := len(g.topics)
	if k == 1 {
		return 0
	}
	var buf [64]int
	perm := g.blockPerm(i/k, buf[:0])
	return perm[i%k]
}

// blockPerm returns the seed-dependent order of the topics in block b.
func (g *Generator) blockPerm(b int, dst []int) []int {
	k := len(g.topics)
	dst = dst[:0]
	for t := range k {
		dst = append(dst, t)
	}
	r := rng{mix64(g.seed ^ uint64(b)*0xd1342543de82ef95 ^ 0x5eed)}
	for j := k - 1; j > 0; j-- {
		x := r.intn(j + 1)
		dst[j], dst[x] = dst[x], dst[j]
	}
	return dst
}

// ChatID returns the chat_id of conversation i: a UUID-shaped string whose
// last 48 bits are a bijection of i, so ids are unique for i < 2^48.
func (g *Generator) ChatID(i int) string {
	var b [36]byte
	return string(g.appendChatID(b[:0], i))
}

const hexdigits = "0123456789abcdef"

func (g *Generator) appendChatID(dst []byte, i int) []byte {
	const mask48 = 1<<48 - 1
	x := (uint64(i) ^ g.seed) & mask48
	x = (x * 0x9e3779b97f4b) & mask48
	x ^= x >> 23
	x = (x * 0xa0761d6478bd) & mask48
	x ^= x >> 29
	h := mix64(g.seed ^ uint64(i)*0x94d049bb133111eb)
	hi := h&^(0xf<<12) | 4<<12 // version 4 in the third group
	var v [16]byte
	for k := range 8 {
		v[k] = byte(hi >> (56 - 8*k))
	}
	v[8] = byte(h>>8)&0x3f | 0x80 // RFC 4122 variant
	v[9] = byte(h >> 16)
	for k := range 6 {
		v[10+k] = byte(x >> (40 - 8*k))
	}
	for k, c := range v {
		if k == 4 || k == 6 || k == 8 || k == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexdigits[c>>4], hexdigits[c&0xf])
	}
	return dst
}

// ClusterID returns the deterministic id of topic t's ground-truth cluster
// (32 hex digits, like Kura's uuid4().hex).
func (g *Generator) ClusterID(t int) string {
	h1 := mix64(g.seed ^ 0xc1a5 ^ uint64(t+1)*0x9e3779b97f4a7c15)
	h2 := mix64(h1 ^ uint64(len(g.topics)))
	return fmt.Sprintf("%016x%016x", h1, h2)
}

// slots holds the fillers of one conversation.
type slots struct {
	persona, subject, action, detail, fact, fact1 string
	term                                          [5]string
	tip, tip2, action2                            string
}

func (s *slots) value(name string) (string, bool) {
	switch name {
	case "persona":
		return s.persona, true
	case "subject":
		return s.subject, true
	case "action":
		return s.action, true
	case "action2":
		return s.action2, true
	case "detail":
		return s.detail, true
	case "fact":
		return s.fact, true
	case "fact1":
		return s.fact1, true
	case "term1":
		return s.term[1], true
	case "term2":
		return s.term[2], true
	case "term3":
		return s.term[3], true
	case "term4":
		return s.term[4], true
	case "tip":
		return s.tip, true
	case "tip2":
		return s.tip2, true
	}
	return "", false
}

// expand appends tmpl with its {slots} filled in.
func (s *slots) expand(b []byte, tmpl string) []byte {
	for {
		open := strings.IndexByte(tmpl, '{')
		if open < 0 {
			return append(b, tmpl...)
		}
		end := strings.IndexByte(tmpl[open:], '}')
		if end < 0 {
			return append(b, tmpl...)
		}
		b = append(b, tmpl[:open]...)
		name := tmpl[open+1 : open+end]
		capital := false
		if r, _ := utf8.DecodeRuneInString(name); unicode.IsUpper(r) {
			capital = true
			name = strings.ToLower(name[:1]) + name[1:]
		}
		v, ok := s.value(name)
		if !ok {
			b = append(b, tmpl[open:open+end+1]...)
		} else if capital && v != "" {
			r, n := utf8.DecodeRuneInString(v)
			b = utf8.AppendRune(b, unicode.ToUpper(r))
			b = append(b, v[n:]...)
		} else {
			b = append(b, v...)
		}
		tmpl = tmpl[open+end+1:]
	}
}

func (s *slots) text(tmpl string) string { return string(s.expand(nil, tmpl)) }

// driftPercent is the share of conversations whose follow-up turns to a
// related topic's vocabulary.
const driftPercent = 30

// baseTime is the creation time of the first conversation.
var baseTime = time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)

// build generates conversation i of topic t; without withConv it returns
// only the summary (the same one, since messages are drawn last).
func (g *Generator) build(i, t int, withConv bool) (conversation.Conversation, conversation.ConversationSummary, int) {
	k := len(g.topics)
	c := &g.topics[t]
	d := c.def
	r := rng{mix64(g.seed ^ uint64(i)*0x9e3779b97f4a7c15 ^ 0xa5a5)}

	// The combination index and its digits.
	j := uint64(i/k) % c.capacity
	hi, lo := bits.Mul64(j, c.mul)
	_, idx := bits.Div64(hi%c.capacity, lo, c.capacity) // (j*mul) mod capacity without overflow
	idx = (idx + c.add) % c.capacity
	var dig [7]int
	for n, rad := range c.radices() {
		dig[n] = int(idx % rad)
		idx /= rad
	}
	tmpl, outcome, persona, subject, action, detail, q := dig[0], dig[1], dig[2], dig[3], dig[4], dig[5], dig[6]

	var s slots
	s.persona = d.personas[persona]
	s.subject = c.subjects[subject]
	s.action = d.actions[action]
	s.detail = d.details[detail]
	for _, f := range d.facts {
		if q < f.n {
			v := strconv.Itoa(f.lo + q*f.step)
			s.fact = strings.Replace(f.third, "%d", v, 1)
			s.fact1 = strings.Replace(f.first, "%d", v, 1)
			break
		}
		q -= f.n
	}
	// Four different terms; term[0] is unused.
	nt := len(d.terms)
	start, stride := r.intn(nt), 1+r.intn(nt-1)
	for n := 1; n <= 4; n++ {
		s.term[n] = d.terms[(start+(n-1)*stride)%nt]
	}
	if s.term[3] == s.term[1] || s.term[4] == s.term[2] || s.term[4] == s.term[1] {
		// stride made a short cycle: fall back to consecutive terms
		for n := 1; n <= 4; n++ {
			s.term[n] = d.terms[(start+n-1)%nt]
		}
	}
	// Conversations drift: the follow-up is sometimes about a related topic.
	if len(c.related) > 0 && r.intn(100) < driftPercent {
		rd := topicsCompiled[c.related[r.intn(len(c.related))]].def
		if t4 := rd.terms[r.intn(len(rd.terms))]; !slices.Contains(s.term[1:4], t4) {
			s.term[4] = t4
		}
	}
	tip := r.intn(len(d.tips))
	s.tip = d.tips[tip]
	s.tip2 = d.tips[(tip+1+r.intn(len(d.tips)-1))%len(d.tips)]
	s.action2 = d.actions[(action+1+r.intn(len(d.actions)-1))%len(d.actions)]

	// Conversation shape and ratings.
	nmsg := []int{2, 2, 2, 3, 4, 4, 4, 5, 6, 6}[r.intn(10)]
	var errs []string
	if r.intn(100) < 9 {
		errs = []string{s.text(errorTemplates[r.intn(len(errorTemplates))])}
	} else {
		errs = []string{}
	}
	frustration := 1
	switch x := r.intn(100); {
	case len(errs) > 0:
		frustration = 2 + r.intn(3)
	case x < 12:
		frustration = 2
	case x < 15:
		frustration = 3
	}
	if frustration >= 3 && nmsg < 4 {
		nmsg = 4 // room for the follow-up that shows the frustration
	}
	concerning := concerningScore(d.risk, &r)
	model := models[r.intn(len(models))]

	// Summary.
	var sb []byte
	sb = s.expand(sb, summaryTemplates[tmpl])
	sb = append(sb, ' ')
	sb = s.expand(sb, outcomeTemplates[outcome])
	if nmsg >= 4 {
		sb = append(sb, ' ')
		sb = s.expand(sb, followUpSummary[r.intn(len(followUpSummary))])
	}
	if frustration >= 3 {
		sb = append(sb, ' ')
		sb = append(sb, frustrationSummary[r.intn(len(frustrationSummary))]...)
	}
	request := s.text(requestTemplates[r.intn(len(requestTemplates))])
	task := s.text(taskTemplates[r.intn(len(taskTemplates))])
	label := d.labels[r.intn(len(d.labels))]

	langs := []string{"english"}
	langs = append(langs, d.langs...)
	if l := c.subjLang[subject]; l != "" && !contains(langs, l) {
		langs = append(langs, l)
	}

	chatID := string(g.appendChatID(make([]byte, 0, 36), i))
	sum := conversation.ConversationSummary{
		Summary:         string(sb),
		Request:         &request,
		Topic:           &label,
		Languages:       langs,
		Task:            &task,
		ConcerningScore: &concerning,
		UserFrustration: &frustration,
		AssistantErrors: errs,
		ChatID:          chatID,
		Metadata:        map[string]any{"conversation_turns": nmsg, "model": model, "topic": d.slug},
	}
	if !withConv {
		return conversation.Conversation{}, sum, t
	}

	// Messages.
	created := baseTime.Add(time.Duration(i)*37*time.Second + time.Duration(r.intn(30_000_000))*time.Microsecond)
	at := created
	msgs := make([]conversation.Message, 0, nmsg)
	add := func(role, content string) {
		at = at.Add(time.Duration(2_000_000+r.intn(90_000_000)) * time.Microsecond)
		msgs = append(msgs, conversation.Message{CreatedAt: conversation.Time{Time: at}, Role: role, Content: content})
	}
	add("user", s.text(userOpenings[r.intn(len(userOpenings))]))
	add("assistant", s.text(assistantReplies[r.intn(len(assistantReplies))]))
	for len(msgs)+2 <= nmsg {
		if frustration >= 3 && len(msgs) == 2 {
			add("user", s.text(userFollowUps[4]))
		} else {
			add("user", s.text(userFollowUps[r.intn(len(userFollowUps)-1)]))
		}
		add("assistant", s.text(assistantFollowUps[r.intn(len(assistantFollowUps))]))
	}
	if len(msgs) < nmsg {
		add("user", userClosings[r.intn(len(userClosings))])
	}

	conv := conversation.Conversation{
		ChatID:    chatID,
		CreatedAt: conversation.Time{Time: created},
		Messages:  msgs,
		Metadata:  map[string]any{"conversation_turns": nmsg, "model": model, "topic": d.slug},
	}
	return conv, sum, t
}

// concerningScore draws Kura's 1-5 concern rating for a topic's risk level.
func concerningScore(risk int, r *rng) int {
	x := r.intn(1000)
	// cumulative per-mille thresholds for scores 1..4 (5 takes the rest)
	th := [3][4]int{
		{985, 998, 1000, 1000},
		{820, 960, 995, 1000},
		{620, 860, 950, 990},
	}[min(max(risk, 0), 2)]
	for s, limit := range th {
		if x < limit {
			return s + 1
		}
	}
	return 5
}

func contains(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// rng is a small deterministic generator (SplitMix64).
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// intn returns a number in [0, n); n must be > 0.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// mix64 is SplitMix64's finaliser, a bijection of uint64.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
