package conversation

import (
	"strconv"

	"github.com/parquet-go/parquet-go"

	"github.com/kura-go/kura/internal/jsonscan"
)

// Python Kura's ParquetCheckpointManager writes a different layout: every
// column optional, lists (messages, chat_ids, languages, assistant_errors)
// and metadata as JSON text written by Python's json.dumps, created_at as
// str(datetime) ("2025-06-12 11:04:56.965428"), scores and level as int32,
// no count, and [] written as null for languages and assistant_errors. Files
// in that layout are recognised by their list columns being plain strings and
// read into the same records; written files always use this package's
// layout.

type kuraPQConversation struct {
	ChatID    *string `parquet:"chat_id,optional"`
	CreatedAt *string `parquet:"created_at,optional"`
	Messages  *string `parquet:"messages,optional"`
	Metadata  *string `parquet:"metadata,optional"`
}

type kuraPQSummary struct {
	ChatID          *string   `parquet:"chat_id,optional"`
	Summary         *string   `parquet:"summary,optional"`
	Request         *string   `parquet:"request,optional"`
	Topic           *string   `parquet:"topic,optional"`
	Languages       *string   `parquet:"languages,optional"`
	Task            *string   `parquet:"task,optional"`
	ConcerningScore *int32    `parquet:"concerning_score,optional"`
	UserFrustration *int32    `parquet:"user_frustration,optional"`
	AssistantErrors *string   `parquet:"assistant_errors,optional"`
	Metadata        *string   `parquet:"metadata,optional"`
	Embedding       []float64 `parquet:"embedding,optional,list"`
}

type kuraPQCluster struct {
	ID          *string `parquet:"id,optional"`
	Name        *string `parquet:"name,optional"`
	Description *string `parquet:"description,optional"`
	Slug        *string `parquet:"slug,optional"`
	ChatIDs     *string `parquet:"chat_ids,optional"`
	ParentID    *string `parquet:"parent_id,optional"`
}

type kuraPQProjected struct {
	ID          *string  `parquet:"id,optional"`
	Name        *string  `parquet:"name,optional"`
	Description *string  `parquet:"description,optional"`
	Slug        *string  `parquet:"slug,optional"`
	ChatIDs     *string  `parquet:"chat_ids,optional"`
	ParentID    *string  `parquet:"parent_id,optional"`
	XCoord      *float64 `parquet:"x_coord,optional"`
	YCoord      *float64 `parquet:"y_coord,optional"`
	Level       *int32   `parquet:"level,optional"`
}

// isKuraLayout reports whether a file's schema is Python Kura's layout for
// the record type of zero: its list column is a string leaf.
func isKuraLayout(s *parquet.Schema, zero any) bool {
	col := "chat_ids"
	switch zero.(type) {
	case Conversation:
		col = "messages"
	case ConversationSummary:
		col = "languages"
	}
	f, ok := fieldByName(s, col)
	return ok && f.Leaf() && f.Type().Kind() == parquet.ByteArray
}

func schemaFor[R, K any](kura bool) *parquet.Schema {
	if kura {
		return parquet.SchemaOf(new(K))
	}
	return parquet.SchemaOf(new(R))
}

func pickSource[R, K any, T Record](f *parquet.File, kura bool, conv func(*R) (T, *RecordError), kconv func(*K) (T, *RecordError)) (any, func() error) {
	if kura {
		return rowSource(f, kconv)
	}
	return rowSource(f, conv)
}

func reqStr(field string, p *string) (string, *RecordError) {
	if p == nil {
		return "", fieldErr(field, "expected string, got null")
	}
	return *p, nil
}

// kuraTime parses str(datetime) and lays it out as Kura's JSON does ('T').
func kuraTime(field string, p *string) (Time, *RecordError) {
	s, err := reqStr(field, p)
	if err != nil {
		return Time{}, err
	}
	t, err := parseTimeField(field, s)
	t.spaceSep = false
	return t, err
}

func kuraStrList(field string, p *string) ([]string, *RecordError) {
	if p == nil {
		return nil, nil
	}
	return decStrList(field, []byte(*p), true)
}

func fromKuraPQConversation(r *kuraPQConversation) (Conversation, *RecordError) {
	var c Conversation
	var err *RecordError
	if c.ChatID, err = reqStr("chat_id", r.ChatID); err != nil {
		return c, err
	}
	if c.CreatedAt, err = kuraTime("created_at", r.CreatedAt); err != nil {
		return c, err
	}
	msgs, err := reqStr("messages", r.Messages)
	if err != nil {
		return c, err
	}
	raw := []byte(msgs)
	if len(raw) == 0 || raw[0] != '[' {
		return c, fieldErr("messages", "expected a JSON list of messages, got %s", jsonscan.TypeName(raw))
	}
	elems, serr := jsonscan.Array(raw, nil)
	if serr != nil {
		return c, fieldErr("messages", "%s", serr.Error())
	}
	c.Messages = make([]Message, len(elems))
	for i, e := range elems {
		path := "messages[" + strconv.Itoa(i) + "]"
		if len(e) == 0 || e[0] != '{' {
			return c, fieldErr(path, "expected message object, got %s", jsonscan.TypeName(e))
		}
		if err := c.Messages[i].decodeJSON(e, path, nil); err != nil {
			return c, err
		}
	}
	if r.Metadata != nil {
		c.Metadata, c.metaKeys, err = metaFromString(*r.Metadata)
	}
	return c, err
}

func fromKuraPQSummary(r *kuraPQSummary) (ConversationSummary, *RecordError) {
	s := ConversationSummary{Request: r.Request, Topic: r.Topic, Task: r.Task, Embedding: r.Embedding}
	var err *RecordError
	if s.ChatID, err = reqStr("chat_id", r.ChatID); err != nil {
		return s, err
	}
	if s.Summary, err = reqStr("summary", r.Summary); err != nil {
		return s, err
	}
	if s.Languages, err = kuraStrList("languages", r.Languages); err != nil {
		return s, err
	}
	if s.AssistantErrors, err = kuraStrList("assistant_errors", r.AssistantErrors); err != nil {
		return s, err
	}
	s.ConcerningScore = convertPtr[int](r.ConcerningScore)
	s.UserFrustration = convertPtr[int](r.UserFrustration)
	if r.Metadata != nil {
		s.Metadata, s.metaKeys, err = metaFromString(*r.Metadata)
	}
	return s, err
}

func fromKuraPQCluster(r *kuraPQCluster) (Cluster, *RecordError) {
	var c Cluster
	var err *RecordError
	if c.ID, err = reqStr("id", r.ID); err != nil {
		return c, err
	}
	if c.Name, err = reqStr("name", r.Name); err != nil {
		return c, err
	}
	if c.Description, err = reqStr("description", r.Description); err != nil {
		return c, err
	}
	if r.Slug != nil {
		c.Slug = *r.Slug
	}
	ids, err := reqStr("chat_ids", r.ChatIDs)
	if err != nil {
		return c, err
	}
	if c.ChatIDs, err = decStrList("chat_ids", []byte(ids), false); err != nil {
		return c, err
	}
	c.ParentID = r.ParentID
	return c, nil
}

func fromKuraPQProjected(r *kuraPQProjected) (ProjectedCluster, *RecordError) {
	var p ProjectedCluster
	var err *RecordError
	c := kuraPQCluster{ID: r.ID, Name: r.Name, Description: r.Description, Slug: r.Slug, ChatIDs: r.ChatIDs, ParentID: r.ParentID}
	if p.Cluster, err = fromKuraPQCluster(&c); err != nil {
		return p, err
	}
	for _, f := range []struct {
		name string
		src  *float64
		dst  *float64
	}{{"x_coord", r.XCoord, &p.XCoord}, {"y_coord", r.YCoord, &p.YCoord}} {
		if f.src == nil {
			return p, fieldErr(f.name, "expected number, got null")
		}
		*f.dst = *f.src
	}
	if r.Level == nil {
		return p, fieldErr("level", "expected integer, got null")
	}
	p.Level = int(*r.Level)
	return p, nil
}
