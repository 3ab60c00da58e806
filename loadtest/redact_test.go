package loadtest

import (
	"bytes"
	"strings"
	"testing"
)

// TestResultsRedactBaseURL checks that credentials in the embedder's base
// URL (user info, api-key and key parameters) are not written to the
// results JSON, while the rest of the URL is.
func TestResultsRedactBaseURL(t *testing.T) {
	for _, base := range []string{"http://user:pa55word@127.0.0.1:8089/v1", "http://127.0.0.1:8089/v1?api-key=pa55word", "http://127.0.0.1:8089/v1?key=pa55word"} {
		r := &Results{}
		r.Config.Embedder.BaseURL = base
		var b bytes.Buffer
		if err := EncodeJSON(&b, r); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "pa55word") || !strings.Contains(b.String(), "127.0.0.1:8089/v1") {
			t.Errorf("results for %s hold:\n%s", base, b.String())
		}
		if r.Config.Embedder.BaseURL != base {
			t.Errorf("EncodeJSON changed the caller's config")
		}
	}
}
