package scaledata

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/kura-go/kura/conversation"
)

// Records are a baseline's or a dataset's records: the slice of the
// record kind's type (the other is empty).
type Records struct {
	Summaries     []conversation.ConversationSummary // when Kind == KindSummaries
	Conversations []conversation.Conversation        // when Kind == KindConversations
}

// recordKind is what differs between the record kinds, so that code over
// records looks its kind up once (kindOf) instead of branching on it.
type recordKind interface {
	file() string // the records file of a checkpoint
	len(r *Records) int
	chatID(r *Records, i int) string
	text(r *Records, i int) string
	value(r *Records, i int) any // record i, for encoding
	// record is record i as Generate emits it; add appends an emitted
	// record.
	record(r *Records, i int) Record
	add(r *Records, rec Record)
	// make recombines a new record from base and donors drawn from pool
	// (see generator.make).
	make(g *generator, base int, pool []int, id string, numbered int) (Record, string)
	writeFile(path string, r *Records) error
	create(path string) (emit func(Record) error, close func() error, abort func(), err error)
	readFile(path string, r *Records) error
}

// kindsInOrder lists the record kinds in the order a checkpoint's records
// file is looked for.
var kindsInOrder = []string{KindSummaries, KindConversations}

var kinds = map[string]recordKind{
	KindSummaries: kindOf[conversation.ConversationSummary]{
		name:   SummariesFile,
		txt:    (*conversation.ConversationSummary).Text,
		slice:  func(r *Records) *[]conversation.ConversationSummary { return &r.Summaries },
		id:     func(s *conversation.ConversationSummary) string { return s.ChatID },
		wrap:   func(s *conversation.ConversationSummary) Record { return Record{Summary: s} },
		unwrap: func(r Record) *conversation.ConversationSummary { return r.Summary },
		recombine: func(base *conversation.ConversationSummary, b *Baseline, donor func() int, rng *rand.Rand, id string, numbered int) *conversation.ConversationSummary {
			s := recombineSummary(base, b, donor, rng)
			s.ChatID = id
			s.Metadata = withSource(s.Metadata, base.ChatID)
			if numbered > 0 {
				s.Summary = strings.TrimSpace(s.Summary) + " " + closing(numbered)
			}
			return &s
		},
	},
	KindConversations: kindOf[conversation.Conversation]{
		name:   ConversationsFile,
		txt:    (*conversation.Conversation).Text,
		slice:  func(r *Records) *[]conversation.Conversation { return &r.Conversations },
		id:     func(c *conversation.Conversation) string { return c.ChatID },
		wrap:   func(c *conversation.Conversation) Record { return Record{Conversation: c} },
		unwrap: func(r Record) *conversation.Conversation { return r.Conversation },
		recombine: func(base *conversation.Conversation, b *Baseline, donor func() int, rng *rand.Rand, id string, numbered int) *conversation.Conversation {
			c := recombineConversation(base, b, donor, rng)
			c.ChatID = id
			c.Metadata = withSource(c.Metadata, base.ChatID)
			if numbered > 0 && len(c.Messages) > 0 {
				c.Messages[0].Content = strings.TrimSpace(c.Messages[0].Content) + " " + closing(numbered)
			}
			return &c
		},
	},
}

// lookupKind returns the operations of kind; an unknown kind (the zero
// value) is taken as summaries, as before there was a table.
func lookupKind(kind string) recordKind {
	if k, ok := kinds[kind]; ok {
		return k
	}
	return kinds[KindSummaries]
}

// kindOf implements recordKind for records of type T.
type kindOf[T conversation.Record] struct {
	name      string
	txt       func(*T) string
	slice     func(*Records) *[]T
	id        func(*T) string
	wrap      func(*T) Record
	unwrap    func(Record) *T
	recombine func(base *T, b *Baseline, donor func() int, rng *rand.Rand, id string, numbered int) *T
}

func (k kindOf[T]) file() string                    { return k.name }
func (k kindOf[T]) len(r *Records) int              { return len(*k.slice(r)) }
func (k kindOf[T]) chatID(r *Records, i int) string { return k.id(&(*k.slice(r))[i]) }
func (k kindOf[T]) text(r *Records, i int) string   { return k.txt(&(*k.slice(r))[i]) }
func (k kindOf[T]) value(r *Records, i int) any     { return &(*k.slice(r))[i] }
func (k kindOf[T]) record(r *Records, i int) Record { return k.wrap(&(*k.slice(r))[i]) }
func (k kindOf[T]) add(r *Records, rec Record)      { s := k.slice(r); *s = append(*s, *k.unwrap(rec)) }
func (k kindOf[T]) writeFile(path string, r *Records) error {
	return conversation.WriteFile(path, *k.slice(r))
}

func (k kindOf[T]) make(g *generator, base int, pool []int, id string, numbered int) (Record, string) {
	b, rng := g.b, g.rng
	donor := func() int { return pool[rng.IntN(len(pool))] }
	v := k.recombine(&(*k.slice(&b.Records))[base], b, donor, rng, id, numbered)
	return k.wrap(v), k.txt(v)
}

func (k kindOf[T]) create(path string) (func(Record) error, func() error, func(), error) {
	fw, err := conversation.Create[T](path)
	if err != nil {
		return nil, nil, nil, err
	}
	return func(r Record) error { return fw.Write(*k.unwrap(r)) }, fw.Close, fw.Abort, nil
}

func (k kindOf[T]) readFile(path string, r *Records) error {
	v, err := conversation.ReadFile[T](path, conversation.ReadOptions{})
	*k.slice(r) = v
	return err
}

// ReadCheckpoint reads the records of a dataset written by WriteCheckpoint
// or Write from dir (not its ground truth): the first records file found,
// of the kinds in order. It returns the dataset and the path of the file
// read.
func ReadCheckpoint(dir string) (*Dataset, string, error) {
	var k recordKind
	var kind, p string
	for _, kind = range kindsInOrder {
		k = kinds[kind]
		p = filepath.Join(dir, k.file())
		if _, err := os.Stat(p); err == nil {
			break
		}
	}
	d := &Dataset{Kind: kind}
	if err := k.readFile(p, &d.Records); err != nil {
		return nil, "", err
	}
	return d, p, nil
}
