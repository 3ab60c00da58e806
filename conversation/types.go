// Package conversation holds Kura's data types (conversations, summaries, clusters)
// and reads and writes them as JSONL and Parquet, exactly as Python Kura does.
package conversation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Time is an ISO-8601 timestamp as Kura writes it: Python's isoformat, with or
// without a zone ("2025-06-12T11:04:56.965428" or "...+00:00"). It remembers
// whether a zone was given so that a file round-trips unchanged.
type Time struct {
	time.Time
	// HasZone records whether the text carried a UTC offset or "Z".
	HasZone bool
}

var naiveLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
}

var zonedLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z0700",
}

// ParseTime parses an ISO-8601 timestamp with or without a zone.
func ParseTime(s string) (Time, error) {
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return Time{Time: t, HasZone: true}, nil
		}
	}
	for _, l := range naiveLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return Time{Time: t}, nil
		}
	}
	return Time{}, fmt.Errorf("not an ISO-8601 time: %q", s)
}

// String formats the time as Python's datetime.isoformat does: microseconds
// only when non-zero, and an offset only when the time has a zone.
func (t Time) String() string {
	layout := "2006-01-02T15:04:05"
	if t.Nanosecond()/1000 != 0 {
		layout += ".000000"
	}
	if t.HasZone {
		layout += "-07:00"
	}
	return t.Format(layout)
}

// MarshalJSON writes the time as an ISO-8601 string.
func (t Time) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

// UnmarshalJSON reads an ISO-8601 string.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return fmt.Errorf("time is null")
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("time must be a string: %w", err)
	}
	p, err := ParseTime(strings.TrimSpace(s))
	if err != nil {
		return err
	}
	*t = p
	return nil
}

// Message is one turn of a conversation.
type Message struct {
	CreatedAt Time   `json:"created_at"`
	Role      string `json:"role"` // user, assistant, system or tool
	Content   string `json:"content"`
}

// Conversation is a chat transcript (Kura's conversations.jsonl).
type Conversation struct {
	ChatID    string         `json:"chat_id"`
	CreatedAt Time           `json:"created_at"`
	Messages  []Message      `json:"messages"`
	Metadata  map[string]any `json:"metadata"`
}

// ConversationSummary is Kura's per-conversation LLM summary (summaries.jsonl).
// Optional fields are pointers or nil slices, written as null.
type ConversationSummary struct {
	Summary         string         `json:"summary"`
	Request         *string        `json:"request"`
	Topic           *string        `json:"topic"`
	Languages       []string       `json:"languages"`
	Task            *string        `json:"task"`
	ConcerningScore *int           `json:"concerning_score"`
	UserFrustration *int           `json:"user_frustration"`
	AssistantErrors []string       `json:"assistant_errors"`
	ChatID          string         `json:"chat_id"`
	Metadata        map[string]any `json:"metadata"`
	Embedding       []float64      `json:"embedding"`
}

// Cluster is a group of conversations (clusters.jsonl, meta_clusters.jsonl).
// Kura writes a "count" field (the number of chat ids) after parent_id; it is
// derived, so it is written on output and ignored on input.
type Cluster struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Slug        string   `json:"slug"`
	ChatIDs     []string `json:"chat_ids"`
	ParentID    *string  `json:"parent_id"`
}

// ProjectedCluster is a cluster placed on the 2-D map (dimensionality.jsonl).
type ProjectedCluster struct {
	Cluster
	XCoord float64 `json:"x_coord"`
	YCoord float64 `json:"y_coord"`
	Level  int     `json:"level"`
}
