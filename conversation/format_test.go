package conversation

import (
	"encoding/json"
	"math"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kura-go/kura/internal/jsonscan"
)

func TestParseTimeRoundTrip(t *testing.T) {
	tests := []struct {
		in      string
		hasZone bool
		unix    int64 // seconds; checked when non-zero
		nsec    int
		out     string // "" means same as in
	}{
		{in: "2025-06-12T11:04:56.965428", nsec: 965428000},
		{in: "2025-06-12T11:04:56.965490", nsec: 965490000}, // trailing zero kept
		{in: "2025-06-12T11:04:56.000000", nsec: 0},         // explicit zero fraction kept
		{in: "2025-06-12T11:04:56"},
		{in: "2025-06-12T11:04:56.5", nsec: 500000000},
		{in: "2025-06-12T11:04:56.123456789", nsec: 123456789},
		{in: "2025-06-12T11:04:56+00:00", hasZone: true, unix: 1749726296},
		{in: "2025-06-12T11:04:56Z", hasZone: true, unix: 1749726296},
		{in: "2025-06-12T13:04:56.25+02:00", hasZone: true, unix: 1749726296, nsec: 250000000},
		{in: "2025-06-12T06:04:56-05:00", hasZone: true, unix: 1749726296},
		{in: "2025-06-12T13:04:56+0200", hasZone: true, unix: 1749726296, out: "2025-06-12T13:04:56+02:00"},
		{in: "2025-06-12T13:04:56+02", hasZone: true, unix: 1749726296, out: "2025-06-12T13:04:56+02:00"},
		{in: "2025-06-12 11:04:56.965428", nsec: 965428000},
		{in: "2025-06-12T11:04"},
		{in: "2025-06-12", out: "2025-06-12T00:00:00"},
	}
	for _, tc := range tests {
		got, err := ParseTime(tc.in)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", tc.in, err)
			continue
		}
		if got.HasZone != tc.hasZone {
			t.Errorf("ParseTime(%q).HasZone = %v, want %v", tc.in, got.HasZone, tc.hasZone)
		}
		if tc.unix != 0 && got.Unix() != tc.unix {
			t.Errorf("ParseTime(%q).Unix() = %d, want %d", tc.in, got.Unix(), tc.unix)
		}
		if got.Nanosecond() != tc.nsec {
			t.Errorf("ParseTime(%q).Nanosecond() = %d, want %d", tc.in, got.Nanosecond(), tc.nsec)
		}
		want := tc.out
		if want == "" {
			want = tc.in
		}
		if s := got.String(); s != want {
			t.Errorf("ParseTime(%q).String() = %q, want %q", tc.in, s, want)
		}
	}
}

func TestParseTimeErrors(t *testing.T) {
	for _, in := range []string{"", "yesterday", "2025-13-01T00:00:00", "2025-02-30", "2025-06-12T25:00:00",
		"2025-06-12T11:04:56.", "2025-06-12T11:04:56.1234567890", "2025-06-12T11:04:56+2", "2025-06-12X11:04",
		"2025-06-12T11:04:56Zjunk", "1749726296"} {
		if got, err := ParseTime(in); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error", in, got)
		}
	}
}

// TestTimeGoDefault checks that times built in Go are written as Python's
// isoformat writes them.
func TestTimeGoDefault(t *testing.T) {
	tests := []struct {
		t    Time
		want string
	}{
		{Time{Time: time.Date(2025, 6, 12, 11, 4, 56, 0, time.UTC)}, "2025-06-12T11:04:56"},
		{Time{Time: time.Date(2025, 6, 12, 11, 4, 56, 965000, time.UTC)}, "2025-06-12T11:04:56.000965"},
		{Time{Time: time.Date(2025, 6, 12, 11, 4, 56, 1, time.UTC)}, "2025-06-12T11:04:56.000000001"},
		{Time{Time: time.Date(2025, 6, 12, 11, 4, 56, 0, time.UTC), HasZone: true}, "2025-06-12T11:04:56+00:00"},
		{Time{Time: time.Date(2025, 6, 12, 11, 4, 56, 0, time.FixedZone("", -(5*3600+30*60))), HasZone: true}, "2025-06-12T11:04:56-05:30"},
	}
	for _, tc := range tests {
		if got := tc.t.String(); got != tc.want {
			t.Errorf("%v: String() = %q, want %q", tc.t.Time, got, tc.want)
		}
	}
	// A parsed layout is dropped when it would lose precision.
	p, _ := ParseTime("2025-06-12T11:04:56.5")
	p.Time = p.Time.Add(250 * time.Microsecond)
	if got, want := p.String(), "2025-06-12T11:04:56.500250"; got != want {
		t.Errorf("modified time: String() = %q, want %q", got, want)
	}
}

func TestAppendFloat(t *testing.T) {
	// Expected strings are what pydantic (serde_json / ryu) writes.
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{-2.5, "-2.5"},
		{4.050192356109619, "4.050192356109619"},
		{0.07740556448698044, "0.07740556448698044"},
		{123456789012345, "123456789012345.0"},
		{1e15, "1000000000000000.0"},
		{1e16, "1e16"},
		{1.5e17, "1.5e17"},
		{1e-5, "0.00001"},
		{1.25e-5, "0.0000125"},
		{1e-6, "1e-6"},
		{-3.2e-7, "-3.2e-7"},
		{0.1, "0.1"},
		{1.7976931348623157e308, "1.7976931348623157e308"},
		{5e-324, "5e-324"},
		{math.NaN(), "null"},
	}
	for _, tc := range tests {
		if got := string(appendFloat(nil, tc.f)); got != tc.want {
			t.Errorf("appendFloat(%v) = %s, want %s", tc.f, got, tc.want)
		}
		if tc.want == "null" {
			continue
		}
		var back float64
		if err := json.Unmarshal([]byte(tc.want), &back); err != nil || back != tc.f {
			t.Errorf("%s reads back as %v (%v), want %v", tc.want, back, err, tc.f)
		}
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`<a href="x">&amp;</a>`, `"<a href=\"x\">&amp;</a>"`},
		{"tab\tnew\nline\rback\\slash", `"tab\tnew\nline\rback\\slash"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f\""},
		{"\b\f", `"\b\f"`},
		{"é ’ 😀 \u2028\u2029", "\"é ’ 😀 \u2028\u2029\""},
		{"bad\xffbyte", "\"bad\ufffdbyte\""},
	}
	for _, tc := range tests {
		got := string(appendString(nil, tc.in))
		if got != tc.want {
			t.Errorf("appendString(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if utf8.ValidString(tc.in) {
			var back string
			if err := json.Unmarshal([]byte(got), &back); err != nil || back != tc.in {
				t.Errorf("%s reads back as %q (%v), want %q", got, back, err, tc.in)
			}
		}
	}
}

func TestRecordErrorFormat(t *testing.T) {
	tests := []struct {
		e    RecordError
		want string
	}{
		{RecordError{File: "a.jsonl", Line: 3, Field: "chat_id", Msg: "required field missing"}, "a.jsonl:3: field chat_id: required field missing"},
		{RecordError{File: "a.jsonl", Line: 3, Msg: "truncated JSON"}, "a.jsonl:3: truncated JSON"},
		{RecordError{Field: "role", Msg: "bad"}, "field role: bad"},
		{RecordError{Line: 7, Msg: "bad"}, "line 7: bad"},
		{RecordError{File: "x.parquet", Msg: "bad"}, "x.parquet: bad"},
	}
	for _, tc := range tests {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}

// TestDecodeStringMatchesEncodingJSON compares the string decoder with
// encoding/json on escapes, surrogates and errors.
func TestDecodeStringMatchesEncodingJSON(t *testing.T) {
	for _, raw := range []string{`"plain"`, `"a\"b\\c\/d"`, `"\b\f\n\r\t"`, `"\u00e9\u2028\u0000"`, `"\ud83d\ude00"`,
		`"\ud83d"`, `"\ud83dx"`, `"\ude00\ud83d"`, `"\ud83d\u0041"`, `"\uD83D\uDE00"`, "\"é ’ 😀\"",
		`"\x"`, `"\u12"`, `"\u12G4"`, `"a\"`, "\"tab\there\"", `"ends\\"`} {
		var want string
		werr := json.Unmarshal([]byte(raw), &want)
		got, gerr := jsonscan.String([]byte(raw))
		if (werr == nil) != (gerr == nil) || got != want {
			t.Errorf("jsonscan.String(%s) = %q, %v; encoding/json gives %q, %v", raw, got, gerr, want, werr)
		}
	}
}

// FuzzDecodeString checks the string decoder against encoding/json.
func FuzzDecodeString(f *testing.F) {
	for _, s := range []string{`"a\n"`, `"\ud83d\ude00"`, `"\u00e9"`, `"x\"y"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' || !utf8.Valid(raw) {
			return
		}
		var want string
		werr := json.Unmarshal(raw, &want)
		got, gerr := jsonscan.String(raw)
		if werr == nil && (gerr != nil || got != want) {
			t.Fatalf("jsonscan.String(%s) = %q, %v; encoding/json gives %q", raw, got, gerr, want)
		}
	})
}

func TestTimeText(t *testing.T) {
	in := "2025-06-12T11:04:56.5Z"
	var tm Time
	if err := tm.UnmarshalText([]byte(in)); err != nil {
		t.Fatal(err)
	}
	if b, _ := tm.MarshalText(); string(b) != in {
		t.Errorf("MarshalText = %s, want %s", b, in)
	}
	m := map[Time]int{tm: 1}
	if b, err := json.Marshal(m); err != nil || string(b) != `{"`+in+`":1}` {
		t.Errorf("map key: %s, %v", b, err)
	}
	if err := tm.UnmarshalText([]byte("nope")); err == nil {
		t.Error("UnmarshalText(nope) succeeded")
	}
}
