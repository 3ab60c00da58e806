package conversation

import (
	"bytes"
	"io"
	"testing"
)

// FuzzReader checks that no input makes the readers panic, and that every
// record read re-encodes to JSON that reads back to the same encoding.
func FuzzReader(f *testing.F) {
	for _, s := range []string{goodConv, goodSummary, `{"id":"x","name":"n","description":"d","slug":"s","chat_ids":["a"],"parent_id":null,"count":1}`,
		`{"id":"x","name":"n","description":"d","slug":"s","chat_ids":[],"parent_id":"p","x_coord":1.5,"y_coord":-2e-9,"level":1,"count":0}`,
		`{"a":[1,{"b":"\u00e9\""}],"c":tru}`, "\xef\xbb\xbf{}\r\n\n[", `{"chat_id":"c","metadata":{"k":[1,2,{"x":null}]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzKind[Conversation](t, data)
		fuzzKind[ConversationSummary](t, data)
		fuzzKind[Cluster](t, data)
		fuzzKind[ProjectedCluster](t, data)
	})
}

func fuzzKind[T Record](t *testing.T, data []byte) {
	r := NewReader[T](bytes.NewReader(data), "f", ReadOptions{SkipInvalid: true})
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("non-record error with SkipInvalid: %v", err)
		}
		enc := any(&rec).(jsonAppender).appendJSON(nil)
		r2 := NewReader[T](bytes.NewReader(enc), "re", ReadOptions{})
		back, err := r2.Next()
		if err != nil {
			t.Fatalf("re-encoded record %s does not read back: %v", enc, err)
		}
		if enc2 := any(&back).(jsonAppender).appendJSON(nil); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable:\n%s\n%s", enc, enc2)
		}
	}
}
