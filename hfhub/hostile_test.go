package hfhub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func blobSHA1(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// TestPullChecksumSources checks where a checksum comes from when the
// listing has none, and that a file with none anywhere is installed after a
// size check and reported, not silently.
func TestPullChecksumSources(t *testing.T) {
	tests := []struct {
		name       string
		etag       string // header for config.json
		wantErr    string
		unverified []string
	}{
		{name: "no checksum anywhere", unverified: []string{"config.json"}},
		{name: "X-Linked-Etag", etag: "X-Linked-Etag: \"SUM256\""},
		{name: "ETag git blob", etag: "ETag: \"BLOB1\""},
		{name: "X-Linked-Etag mismatch", etag: "X-Linked-Etag: \"" + strings.Repeat("ab", 32) + "\"", wantErr: "SHA-256 (X-Linked-Etag) checksum mismatch"},
		{name: "ETag mismatch", etag: "ETag: \"" + strings.Repeat("cd", 20) + "\"", wantErr: "git blob SHA-1 (ETag) checksum mismatch"},
		{name: "ETag that is no checksum", etag: "ETag: \"1234-abc\"", unverified: []string{"config.json"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newFakeHub(t)
			h.noSum["config.json"] = true
			b := h.files["config.json"]
			sum := sha256.Sum256(b)
			h.etag["config.json"] = strings.NewReplacer("SUM256", hex.EncodeToString(sum[:]), "BLOB1", blobSHA1(b)).Replace(tc.etag)
			c := start(t, h)
			dest := t.TempDir()
			info, err := c.Pull(context.Background(), "test-org/bert-tiny", dest, PullOptions{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if _, err := os.Stat(filepath.Join(dest, "config.json")); err == nil {
					t.Error("config.json installed after a checksum mismatch")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkFiles(t, h, dest)
			if !slices.Equal(info.Unverified, tc.unverified) {
				t.Errorf("Unverified = %q, want %q", info.Unverified, tc.unverified)
			}
			m, err := os.ReadFile(filepath.Join(dest, ManifestName))
			if err != nil {
				t.Fatal(err)
			}
			if has := strings.Contains(string(m), `"unverified"`); has != (len(tc.unverified) > 0) {
				t.Errorf("manifest %s: unverified recorded = %v, want %v", m, has, len(tc.unverified) > 0)
			}
		})
	}
}

// TestPullNeverPastDeclaredSize checks that a server sending more than the
// listing declares gets an error and no file, with nothing written past the
// declared size.
func TestPullNeverPastDeclaredSize(t *testing.T) {
	for _, file := range []string{"model.safetensors", "config.json"} {
		h := newFakeHub(t)
		h.extra[file] = 10 << 20
		c := start(t, h)
		dest := t.TempDir()
		_, err := c.Pull(context.Background(), "test-org/bert-tiny", dest, PullOptions{})
		if err == nil || !strings.Contains(err.Error(), "more than the declared") || !strings.Contains(err.Error(), file) {
			t.Fatalf("%s: err = %v, want 'more than the declared' naming the file", file, err)
		}
		for _, p := range []string{file, file + ".part"} {
			if st, err := os.Stat(filepath.Join(dest, p)); err == nil {
				t.Errorf("%s: %s left behind (%d bytes)", file, p, st.Size())
			}
		}
	}
	// Nothing declares a size (no listing size, chunked, no checksum): the
	// file is taken as sent, and the pull says it is unverified.
	h := newFakeHub(t)
	h.noSum["config.json"] = true
	h.extra["config.json"] = 1000
	c := start(t, h)
	info, err := c.Pull(context.Background(), "test-org/bert-tiny", t.TempDir(), PullOptions{})
	if err != nil || !slices.Equal(info.Unverified, []string{"config.json"}) {
		t.Fatalf("undeclared size: err %v, info %+v; want config.json reported unverified", err, info)
	}
}

// TestPullIdleTimeout checks that a server that stops sending mid-body fails
// the pull after the idle timeout, keeping the part to resume.
func TestPullIdleTimeout(t *testing.T) {
	h := newFakeHub(t)
	size := int64(len(h.files["model.safetensors"]))
	h.stallAt["model.safetensors"] = size / 2
	c := start(t, h)
	c.IdleTimeout = 200 * time.Millisecond
	dest := t.TempDir()
	_, err := c.Pull(context.Background(), "test-org/bert-tiny", dest, PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "no data from the server for 200ms (idle timeout)") || !strings.Contains(err.Error(), "kept in") {
		t.Fatalf("err = %v, want an idle timeout keeping the part", err)
	}
	if st, err := os.Stat(filepath.Join(dest, "model.safetensors.part")); err != nil || st.Size() != size/2 {
		t.Fatalf("part: %v %v, want %d bytes", st, err, size/2)
	}
	delete(h.stallAt, "model.safetensors")
	if _, err := c.Pull(context.Background(), "test-org/bert-tiny", dest, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	checkFiles(t, h, dest)
}
