package jsonscan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestEachField(t *testing.T) {
	tests := []struct {
		in   string
		want []Field
		err  string // "" for none
	}{
		{` { "a" : 1 , "b\u00e9":[1,{"x":"]"}], "c": null } `, []Field{{"a", []byte("1")}, {"bé", []byte(`[1,{"x":"]"}]`)}, {"c", []byte("null")}}, ""},
		{`{}`, nil, ""},
		{`[1]`, nil, "invalid JSON at byte 1: expected '{' to start an object, found '['"},
		{`{"a":1} {`, []Field{{"a", []byte("1")}}, "invalid JSON at byte 9: unexpected '{' after the end of the value"},
		{`{"a":1,}`, []Field{{"a", []byte("1")}}, "invalid JSON at byte 8: expected a quoted field name, found '}'"},
		{`{"a" 1}`, nil, "invalid JSON at byte 6: expected ':' after field name, found '1'"},
		{`{"a":1 "b":2}`, []Field{{"a", []byte("1")}}, "invalid JSON at byte 8: expected ',' or '}' after a field, found '\"'"},
		{`{"a":[1,2`, nil, "truncated JSON"},
		{"{\"a\":\"x\x01\"}", nil, "control character 0x01"},
		{``, nil, "truncated JSON"},
	}
	for _, tt := range tests {
		var got []Field
		err := eachField([]byte(tt.in), func(key string, val []byte) error {
			got = append(got, Field{key, val})
			return nil
		})
		if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
		}
		if len(got) != len(tt.want) {
			t.Errorf("%q: fields %q, want %q", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i].Key != tt.want[i].Key || string(got[i].Val) != string(tt.want[i].Val) {
				t.Errorf("%q: field %d = %s:%s, want %s:%s", tt.in, i, got[i].Key, got[i].Val, tt.want[i].Key, tt.want[i].Val)
			}
		}
	}
	// An error from the callback stops the scan and is returned as is.
	stop := errors.New("stop")
	n := 0
	if err := eachField([]byte(`{"a":1,"b":2}`), func(string, []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("callback error: %v after %d fields", err, n)
	}
}

func TestEachElem(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
		err  string
	}{
		{`[ 1, "a,]", {"b":[2]} ,null]`, []string{"1", `"a,]"`, `{"b":[2]}`, "null"}, ""},
		{`[]`, nil, ""},
		{`[1,,2]`, []string{"1"}, "expected a value, found ','"},
		{`[1 2]`, []string{"1"}, "expected ',' or ']' in a list, found '2'"},
		{`[1,`, []string{"1"}, "truncated JSON"},
		{`{}`, nil, "expected '['"},
	} {
		var got []string
		err := eachElem([]byte(tt.in), func(_ int, v []byte) error { got = append(got, string(v)); return nil })
		if (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%q: elements %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Scanner.Number accepts exactly JSON's numbers.
func TestScannerNumber(t *testing.T) {
	for _, in := range []string{"0", "-0", "12", "-1.5", "1e9", "2E-3", "0.25e+2", "1x", "01", "+1", ".5", "1.", "1e", "-", "", "tru"} {
		s := NewScanner([]byte(in))
		got, err := s.Number()
		if err == nil {
			err = s.End()
		}
		if valid := json.Valid([]byte(in)) && in != "tru"; (err == nil) != valid || valid && string(got) != in {
			t.Errorf("Number(%q) = %q, %v; encoding/json says valid=%v", in, got, err, valid)
		}
	}
	s := NewScanner([]byte(` null`))
	if !s.Null() || s.End() != nil {
		t.Error("Null did not consume null")
	}
}

// TestString checks String against encoding/json on escapes, surrogates
// and invalid input.
func TestString(t *testing.T) {
	for _, in := range []string{`"plain"`, `"a\"b\\c\/d\b\f\n\r\t"`, `"\u00e9\u4e2d"`, `"\ud83d\ude00"`, `"\ud83d x"`, `"\x"`, `"\u12"`, "\"a\x01\"", `"`, `x`} {
		got, err := String([]byte(in))
		var want string
		werr := json.Unmarshal([]byte(in), &want)
		if (err == nil) != (werr == nil) || err == nil && got != want {
			t.Errorf("String(%s) = %q, %v; encoding/json gives %q, %v", in, got, err, want, werr)
		}
	}
}

// skipStringBytewise is SkipString one byte at a time, the reference for
// its eight-byte steps.
func skipStringBytewise(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, true
		case c == '\\':
			j++
		case c < 0x20:
			return j, false
		}
	}
	return len(b), false
}

// TestSkipString checks SkipString against the byte-by-byte reference with
// every special byte (quote, backslash, each control character, and bytes
// either side of them) at every position of strings long enough for the
// eight-byte steps, and truncated copies of them.
func TestSkipString(t *testing.T) {
	specials := []byte{'"', '\\', 0x00, 0x01, 0x0a, 0x1f, 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff}
	check := func(b []byte) {
		t.Helper()
		want, ok := skipStringBytewise(b, 0)
		got, err := SkipString(b, 0)
		switch {
		case ok && (err != nil || got != want):
			t.Fatalf("SkipString(%q) = %d, %v; want %d", b, got, err, want)
		case !ok && err == nil:
			t.Fatalf("SkipString(%q) = %d; want an error at %d", b, got, want)
		case !ok && err.Off != want:
			t.Fatalf("SkipString(%q): error at %d (%v); want at %d", b, err.Off, err, want)
		}
	}
	for n := 0; n < 40; n++ {
		for pos := 0; pos < n; pos++ {
			for _, c := range specials {
				b := []byte(`"` + strings.Repeat("QUJD", 10)[:n] + `"tail`)
				b[1+pos] = c
				for cut := 0; cut <= len(b); cut++ {
					check(b[:cut])
				}
			}
		}
	}
	// Two specials in one eight-byte word, and escapes that end a word.
	for _, s := range []string{`"abcdefg\"hijklmnop"`, `"abcdefgh\\"x`, `"abcdefg\\\"hijklm"`, `"a\"b\\c\/d\b\f\n\r\tefghijkl"`, "\"abcdefghijklmno\x7f\xc3\xa9\"", `"` + strings.Repeat("A", 8200) + `"`} {
		check([]byte(s))
	}
}

func FuzzSkipString(f *testing.F) {
	for _, s := range []string{`"plain"`, `"abcdefgh\"ijklmnop"`, "\"abcdefgh\x01\"", `"abcdefghijklmnop`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '"' {
			return
		}
		want, ok := skipStringBytewise(b, 0)
		got, err := SkipString(b, 0)
		if ok != (err == nil) || ok && got != want || !ok && err.Off != want {
			t.Fatalf("SkipString(%q) = %d, %v; reference %d, %v", b, got, err, want, ok)
		}
	})
}
