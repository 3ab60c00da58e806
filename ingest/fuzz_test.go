package ingest

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzReader checks that no input makes Open or Next panic or loop, in
// every format: each conversation returned is valid, each error names the
// file, and reading ends (io.EOF or a fatal error) within as many calls as
// the input has bytes.
func FuzzReader(f *testing.F) {
	for _, p := range []string{"testdata/claude-export.json", "testdata/chatgpt-export.json", "testdata/kura-conversations.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"[" + kc(1) + "," + kc(2) + "]", "[" + claudeConv + "]", "[" + gptConv + "]",
		kc(1) + "\n" + kc(2), "[]", "[", "[{]", `[{"a":"\"}"}]`, "[1,2,3]", "\xef\xbb\xbf[]",
		"[" + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "]", `[{"mapping":{"a":{"parent":"a"}},"id":"x"}]`} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.HasPrefix(data, []byte("PAR1")) {
			// Parquet is read by package conversation and parquet-go; a
			// hostile Parquet file is that package's to fuzz.
			t.Skip()
		}
		path := filepath.Join(dir, "in")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, format := range Formats {
			r, err := Open(path, Options{Format: format, MaxDepth: 16, MaxElementBytes: 1 << 16})
			if err != nil {
				if !strings.Contains(err.Error(), path) {
					t.Fatalf("%s: Open error without the file name: %v", format, err)
				}
				continue
			}
			for n := 0; ; n++ {
				if n > len(data)+1 {
					r.Close()
					t.Fatalf("%s: more than %d calls to Next on %d bytes", format, n, len(data))
				}
				c, err := r.Next(context.Background())
				if err == io.EOF || IsFatal(err) {
					break
				}
				if err != nil {
					if !strings.Contains(err.Error(), path) {
						t.Fatalf("%s: error without the file name: %v", format, err)
					}
					continue
				}
				if err := c.Validate(); err != nil {
					t.Fatalf("%s: invalid conversation returned: %v", format, err)
				}
			}
			r.Close()
		}
	})
}
