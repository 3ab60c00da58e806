package human

import (
	"strings"
	"testing"
)

func TestFormats(t *testing.T) {
	tests := []struct{ got, want string }{
		{Bytes(0), "0 bytes"},
		{Bytes(512), "512 bytes"},
		{Bytes(1536), "2 KiB"},
		{Bytes(1 << 20), "1.0 MiB"},
		{Bytes(100 << 20), "100 MiB"},
		{Bytes(2048), "2 KiB"},
		{Bytes(1.5 * (1 << 20)), "1.5 MiB"},
		{Bytes(48 << 20), "48 MiB"},
		{Bytes(3 << 30), "3.0 GiB"},
		{Bytes(2 << 40), "2.0 TiB"},
		{Thousands(0), "0"},
		{Thousands(999), "999"},
		{Thousands(1000), "1,000"},
		{Thousands(1234567), "1,234,567"},
		{Thousands(-1234), "-1,234"},
		{Duration(4.8), "4.80s"},
		{Duration(95), "95s"},
		{Duration(750), "12.5 min"},
		{Duration(3 * 3600), "3.0 h"},
		{Seconds(0.0123), "0.012"},
		{Seconds(12.34), "12.3"},
		{USD(0), "0"},
		{USD(0.0002), "0.000200"},
		{USD(0.125), "0.1250"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"short line", 40, "short line"},
		{"  one two three four five six seven eight nine", 20, "  one two three four\n    five six seven\n    eight nine"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bb", 20, "aaaaaaaaaaaaaaaaaaaa\n  aaaaaaaaaa bb"},
		{"a\n\nb c", 20, "a\n\nb c"},
		{"trailing   ", 20, "trailing"},
		// A flag and its value stay together when the line can break
		// elsewhere; a flag followed by a flag, or by punctuation, does not.
		{"PCA to 32 dims (--reduce none: off)", 28, "PCA to 32 dims\n  (--reduce none: off)"},
		{"aaaa bbbb --plan-for 100k,1M", 24, "aaaa bbbb\n  --plan-for 100k,1M"},
		{"aaaa bbbb cc --quiet --wide", 24, "aaaa bbbb cc --quiet\n  --wide"},
		{"aaaa bbbb (--details) cccc", 24, "aaaa bbbb (--details)\n  cccc"},
		{"--plan-for 100k,1M,10M,100M", 20, "--plan-for\n  100k,1M,10M,100M"},
		// A number stays with its unit, or with what it counts.
		{"aaaa bbbb cccc dd 20 MiB", 20, "aaaa bbbb cccc dd\n  20 MiB"},
		{"aaaa bbbb cccc, 1.2 GiB)", 20, "aaaa bbbb cccc,\n  1.2 GiB)"},
		{"aaaa bbbb cccc dd 20 cats", 20, "aaaa bbbb cccc dd\n  20 cats"},
		{"aaaa bbbb, 1,000 cats", 20, "aaaa bbbb,\n  1,000 cats"},
		// Before anything but a plain word it may end a line.
		{"aaaa bbbb at 50,000 (text-embedding)", 20, "aaaa bbbb at 50,000\n  (text-embedding)"},
		{"aaaa law n^1.53 R²=0.7", 20, "aaaa law n^1.53\n  R²=0.7"},
		// Not when the number is the line's only break.
		{"aaaaaaaaaaaaaaaaaa20 cats", 20, "aaaaaaaaaaaaaaaaaa20\n  cats"},
	}
	for _, tt := range tests {
		got := Wrap(tt.in, tt.width)
		if got != tt.want {
			t.Errorf("Wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
		for _, l := range strings.Split(got, "\n") {
			if len(l) > max(tt.width, 20) {
				t.Errorf("Wrap(%q): line %q longer than %d", tt.in, l, tt.width)
			}
		}
	}
}

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{{0, "0 retries"}, {1, "1 retry"}, {2, "2 retries"}, {38002, "38,002 retries"}} {
		if got := Count(tt.n, "retry", "retries"); got != tt.want {
			t.Errorf("Count(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestHang(t *testing.T) {
	for _, tt := range []struct {
		s             string
		width, indent int
		want          string
	}{
		{"Run Kura's pipeline: summaries, clusters, names", 30, 4, "Run Kura's pipeline:\n    summaries, clusters, names"},
		{"short", 30, 4, "short"},
		{"a https://a.very.long.example/url/that/does/not/fit b", 20, 2, "a\n  https://a.very.long.example/url/that/does/not/fit\n  b"},
		{"too narrow to wrap", 10, 2, "too narrow to wrap"},
	} {
		if got := Hang(tt.s, tt.width, tt.indent); got != tt.want {
			t.Errorf("Hang(%q, %d, %d) = %q, want %q", tt.s, tt.width, tt.indent, got, tt.want)
		}
	}
}
