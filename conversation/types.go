// Package conversation holds Kura's data types (conversations, summaries,
// clusters) and reads and writes them as JSONL and Parquet, exactly as Python
// Kura does.
//
// # JSONL
//
// One record per line, written the way Kura's checkpoint managers write them
// (pydantic's model_dump_json): compact, fields in Kura's order, null for an
// absent optional value, [] for an empty list, non-ASCII text unescaped.
// Clusters carry a derived "count" field (len(chat_ids)) that is written on
// output and ignored on input. Reading is streaming (one line at a time, lines
// up to [DefaultMaxLineBytes] by default), accepts a UTF-8 byte-order mark,
// CRLF line ends, blank lines (skipped) and a last line without a newline,
// and ignores unknown fields (reported through [ReadOptions.OnWarning]).
// Every record is validated; a problem is a [*RecordError] naming file, line,
// field and what was expected.
//
// # Parquet
//
// One row per record with the same column names as the JSON fields. Lists are
// Parquet LIST columns; an empty list stays empty and null stays null (Python
// Kura's own Parquet output turns [] into null; this package does not).
// Times are stored as their ISO-8601 text, so that a round trip is exact, and
// metadata (a free-form map) as a JSON-encoded string column "metadata"
// with keys in their original order. Errors name the 1-based row. Files
// written by Python Kura's own ParquetCheckpointManager (lists and metadata as
// JSON text columns) are recognised and read too.
package conversation

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/kura-go/kura/internal/jsonscan"
)

// Time is an ISO-8601 timestamp as Kura writes it: Python's isoformat, with or
// without a zone ("2025-06-12T11:04:56.965428" or "...+00:00"). It remembers
// whether a zone was given, and how the text was laid out (number of
// fractional digits, "Z" or "+00:00", 'T' or ' ' separator), so that a file
// round-trips byte for byte.
type Time struct {
	time.Time
	// HasZone records whether the text carried a UTC offset or "Z".
	HasZone bool

	// Layout remembered from parsing; the zero value means Python's
	// isoformat: microseconds only when non-zero, "+HH:MM" offsets.
	frac     int8 // number of fractional digits written, plus one (0 = default)
	zulu     bool // write "Z" for a zero offset
	spaceSep bool // ' ' instead of 'T' between date and time
	noSec    bool // "HH:MM" without seconds
}

// ParseTime parses an ISO-8601 timestamp with or without a zone, as Python's
// datetime.fromisoformat accepts it: a date, optionally followed by 'T' or ' '
// and HH:MM[:SS[.fraction]], optionally followed by "Z", ±HH:MM, ±HHMM or ±HH.
// A fraction may have 1 to 9 digits.
func ParseTime(s string) (Time, error) {
	var t Time
	bad := func() (Time, error) { return Time{}, fmt.Errorf("not an ISO-8601 time: %q", s) }
	num := func(i, n int) (int, bool) {
		if i+n > len(s) {
			return 0, false
		}
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 2)
	day, ok3 := num(8, 2)
	if !ok1 || !ok2 || !ok3 || s[4] != '-' || s[7] != '-' {
		return bad()
	}
	var hour, minute, sec, nsec int
	i := 10
	if i < len(s) {
		switch s[i] {
		case 'T':
		case ' ':
			t.spaceSep = true
		default:
			return bad()
		}
		var ok, ok2 bool
		hour, ok = num(i+1, 2)
		minute, ok2 = num(i+4, 2)
		if !ok || !ok2 || s[i+3] != ':' {
			return bad()
		}
		i += 6
		if i < len(s) && s[i] == ':' {
			if sec, ok = num(i+1, 2); !ok {
				return bad()
			}
			i += 3
			if i < len(s) && (s[i] == '.' || s[i] == ',') {
				j := i + 1
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
				digits := j - i - 1
				if digits < 1 || digits > 9 {
					return bad()
				}
				f, _ := num(i+1, digits)
				for k := digits; k < 9; k++ {
					f *= 10
				}
				nsec = f
				t.frac = int8(digits + 1)
				i = j
			} else {
				t.frac = 1 // explicitly no fraction
			}
		} else {
			t.noSec = true
			t.frac = 1
		}
	}
	loc := time.UTC
	if i < len(s) {
		t.HasZone = true
		switch s[i] {
		case 'Z':
			if i+1 != len(s) {
				return bad()
			}
			t.zulu = true
		case '+', '-':
			rest := s[i+1:]
			var h, m int
			var ok, ok2 bool
			switch len(rest) {
			case 2:
				h, ok = num(i+1, 2)
				ok2 = true
			case 4:
				h, ok = num(i+1, 2)
				m, ok2 = num(i+3, 2)
			case 5:
				h, ok = num(i+1, 2)
				m, ok2 = num(i+4, 2)
				ok2 = ok2 && rest[2] == ':'
			}
			if !ok || !ok2 || h > 23 || m > 59 {
				return bad()
			}
			off := h*3600 + m*60
			if s[i] == '-' {
				off = -off
			}
			loc = time.FixedZone("", off)
		default:
			return bad()
		}
	}
	tt := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	y, mo, d := tt.Date()
	if y != year || int(mo) != month || d != day || tt.Hour() != hour || tt.Minute() != minute || tt.Second() != sec {
		return Time{}, fmt.Errorf("not a valid date and time: %q", s)
	}
	t.Time = tt
	return t, nil
}

// String formats the time as it was parsed, or, for a time built in Go, as
// Python's datetime.isoformat does: microseconds only when non-zero, and an
// offset only when the time has a zone.
func (t Time) String() string { return string(t.appendText(nil)) }

func (t Time) appendText(b []byte) []byte {
	pad := func(b []byte, v, n int) []byte {
		var tmp [10]byte
		s := strconv.AppendInt(tmp[:0], int64(v), 10)
		for k := len(s); k < n; k++ {
			b = append(b, '0')
		}
		return append(b, s...)
	}
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year < 0 {
		b = append(b, '-')
		year = -year
	}
	b = pad(b, year, 4)
	b = append(b, '-')
	b = pad(b, int(month), 2)
	b = append(b, '-')
	b = pad(b, day, 2)
	if t.spaceSep {
		b = append(b, ' ')
	} else {
		b = append(b, 'T')
	}
	b = pad(b, hour, 2)
	b = append(b, ':')
	b = pad(b, minute, 2)
	ns := t.Nanosecond()
	frac := int(t.frac) - 1
	if frac >= 0 {
		// Keep the parsed layout unless it would lose precision.
		div := 1
		for k := frac; k < 9; k++ {
			div *= 10
		}
		if ns%div != 0 || (t.noSec && (sec != 0 || ns != 0)) {
			frac = -1
		}
	}
	if frac < 0 || !t.noSec || sec != 0 || ns != 0 {
		b = append(b, ':')
		b = pad(b, sec, 2)
	}
	switch {
	case frac < 0 && ns == 0:
	case frac < 0 && ns%1000 == 0:
		b = append(b, '.')
		b = pad(b, ns/1000, 6)
	case frac < 0:
		b = append(b, '.')
		b = pad(b, ns, 9)
	case frac > 0:
		div := 1
		for k := frac; k < 9; k++ {
			div *= 10
		}
		b = append(b, '.')
		b = pad(b, ns/div, frac)
	}
	if t.HasZone {
		_, off := t.Zone()
		if off == 0 && t.zulu {
			return append(b, 'Z')
		}
		sign := byte('+')
		if off < 0 {
			sign = '-'
			off = -off
		}
		b = append(b, sign)
		b = pad(b, off/3600, 2)
		b = append(b, ':')
		b = pad(b, off/60%60, 2)
		if off%60 != 0 {
			b = append(b, ':')
			b = pad(b, off%60, 2)
		}
	}
	return b
}

// MarshalJSON writes the time as an ISO-8601 string.
func (t Time) MarshalJSON() ([]byte, error) {
	b := append([]byte{'"'}, t.appendText(nil)...)
	return append(b, '"'), nil
}

// MarshalText writes the time as ISO-8601 text (used for map keys, YAML,
// CSV and the like instead of time.Time's RFC 3339).
func (t Time) MarshalText() ([]byte, error) { return t.appendText(nil), nil }

// UnmarshalText parses ISO-8601 text.
func (t *Time) UnmarshalText(b []byte) error {
	p, err := ParseTime(string(b))
	if err != nil {
		return err
	}
	*t = p
	return nil
}

// UnmarshalJSON reads an ISO-8601 string.
func (t *Time) UnmarshalJSON(b []byte) error {
	s, err := jsonscan.String(b)
	if err != nil {
		return err
	}
	p, err := ParseTime(s)
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
//
// Metadata values read from a file are string, bool, json.Number (numbers
// keep their exact text), []any and map[string]any; in Go code any JSON-able
// scalar, slice or map may be used. The order of metadata keys read from a
// file is remembered and kept on output; new keys follow in sorted order.
type Conversation struct {
	ChatID    string         `json:"chat_id"`
	CreatedAt Time           `json:"created_at"`
	Messages  []Message      `json:"messages"`
	Metadata  map[string]any `json:"metadata"`

	metaKeys []string
}

// ConversationSummary is Kura's per-conversation LLM summary (summaries.jsonl).
// Optional fields are pointers or nil slices, written as null; an empty
// non-nil slice is written as [].
type ConversationSummary struct {
	Summary         string         `json:"summary"`
	Request         *string        `json:"request"`
	Topic           *string        `json:"topic"`
	Languages       []string       `json:"languages"`
	Task            *string        `json:"task"`
	ConcerningScore *int           `json:"concerning_score"` // 1..5
	UserFrustration *int           `json:"user_frustration"` // 1..5
	AssistantErrors []string       `json:"assistant_errors"`
	ChatID          string         `json:"chat_id"`
	Metadata        map[string]any `json:"metadata"`
	Embedding       []float64      `json:"embedding"`

	metaKeys []string
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
// Its JSON has the cluster's fields, then x_coord, y_coord, level and count.
type ProjectedCluster struct {
	Cluster
	XCoord float64 `json:"x_coord"`
	YCoord float64 `json:"y_coord"`
	Level  int     `json:"level"`
}

// Record is any of the record types stored one per line (or row) in Kura's
// checkpoint files.
type Record interface {
	Conversation | ConversationSummary | Cluster | ProjectedCluster
}

// MarshalJSON writes the conversation exactly as Kura does.
func (c Conversation) MarshalJSON() ([]byte, error) { return c.appendJSON(nil), nil }

// MarshalJSON writes the summary exactly as Kura does.
func (s ConversationSummary) MarshalJSON() ([]byte, error) { return s.appendJSON(nil), nil }

// MarshalJSON writes the cluster exactly as Kura does, with "count".
func (c Cluster) MarshalJSON() ([]byte, error) { return c.appendJSON(nil), nil }

// MarshalJSON writes the projected cluster exactly as Kura does, with "count".
func (p ProjectedCluster) MarshalJSON() ([]byte, error) { return p.appendJSON(nil), nil }

// UnmarshalJSON reads a conversation (without validating it; see Validate).
func (c *Conversation) UnmarshalJSON(b []byte) error { return asError(c.decodeJSON(b, nil)) }

// UnmarshalJSON reads a summary (without validating it; see Validate).
func (s *ConversationSummary) UnmarshalJSON(b []byte) error { return asError(s.decodeJSON(b, nil)) }

// UnmarshalJSON reads a cluster (without validating it; see Validate).
func (c *Cluster) UnmarshalJSON(b []byte) error { return asError(c.decodeJSON(b, nil)) }

// UnmarshalJSON reads a projected cluster (without validating it).
func (p *ProjectedCluster) UnmarshalJSON(b []byte) error { return asError(p.decodeJSON(b, nil)) }

func asError(e *RecordError) error {
	if e == nil {
		return nil
	}
	return e
}

var _ json.Marshaler = Conversation{}
