// Package hfhub downloads models from the Hugging Face hub into kura's model
// cache and finds models already on disk, in kura's cache or in the Hugging
// Face cache.
//
// Downloads are verified (SHA-256 for LFS files such as the weights, the git
// blob hash for small files, from the listing or else from the hub's
// X-Linked-Etag/ETag headers; a file with no checksum anywhere is installed
// after a size check and reported in RepoInfo.Unverified), never written past
// their declared size, stopped when the server sends nothing for IdleTimeout,
// resumable (data goes to FILE.part and resumes with an HTTP Range request)
// and atomic (FILE appears only when complete).
package hfhub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kura-go/kura/internal/httpapi"
	"github.com/kura-go/kura/internal/outfile"
)

// DefaultEndpoint is the hub's address when HF_ENDPOINT is not set.
const DefaultEndpoint = "https://huggingface.co"

// SentenceTransformerFiles are the files of a sentence-transformers BERT
// model that kura needs or reads. Files absent from a repository are skipped,
// except that a config.json, a tokenizer (tokenizer.json or vocab.txt) and
// weights (model.safetensors, else onnx/model.onnx or model.onnx) are required.
var SentenceTransformerFiles = []string{
	"config.json", "model.safetensors", "tokenizer.json", "vocab.txt",
	"sentence_bert_config.json", "modules.json", "1_Pooling/config.json",
	"special_tokens_map.json", "tokenizer_config.json",
}

// Client talks to a Hugging Face hub.
type Client struct {
	// Endpoint is the hub's base URL, without a trailing slash.
	Endpoint string
	// Token, when set, is sent as "Authorization: Bearer TOKEN".
	Token string
	HTTP  *http.Client
	// IdleTimeout fails a download when the server sends nothing for this
	// long (0: DefaultIdleTimeout). There is no overall timeout.
	IdleTimeout time.Duration
}

// DefaultIdleTimeout is Client.IdleTimeout's default.
const DefaultIdleTimeout = time.Minute

// maxUndeclared caps a file whose size neither the listing nor the response
// declares.
const maxUndeclared = 8 << 30

// NewClient returns a client configured from the environment: HF_ENDPOINT
// (default https://huggingface.co) and HF_TOKEN.
func NewClient() *Client {
	ep := strings.TrimRight(os.Getenv("HF_ENDPOINT"), "/")
	if ep == "" {
		ep = DefaultEndpoint
	}
	// No overall timeout (weights take minutes on a slow link; Ctrl-C cancels
	// through the context), but a server that does not answer is an error.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = time.Minute
	return &Client{Endpoint: ep, Token: os.Getenv("HF_TOKEN"), HTTP: &http.Client{Transport: tr}}
}

// FileInfo describes one file of a repository revision.
type FileInfo struct {
	Path   string // relative path, "/"-separated
	Size   int64  // -1 when the hub did not say
	SHA256 string // of the content, for LFS files
	BlobID string // git blob SHA-1, for files stored in git
}

// RepoInfo is a repository revision and its files.
type RepoInfo struct {
	Repo, Revision, SHA string
	Files               []FileInfo
	// Unverified lists the files Pull installed without a checksum to
	// check them against (neither the listing nor the response gave one);
	// only their size was checked, when it was declared.
	Unverified []string
}

// ValidateRepo checks that repo looks like "ORG/NAME".
func ValidateRepo(repo string) error {
	org, name, ok := strings.Cut(repo, "/")
	bad := func(s string) bool {
		return s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\\ \t\n") || strings.HasPrefix(s, "-")
	}
	if !ok || bad(org) || bad(name) {
		return fmt.Errorf("hfhub: repository %q: want ORG/NAME, e.g. sentence-transformers/all-MiniLM-L6-v2", repo)
	}
	return nil
}

func (c *Client) get(ctx context.Context, u string, hdr map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("hfhub: %w", err)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	req.Header.Set("User-Agent", "kura")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("hfhub: %w", err)
	}
	return resp, nil
}

func statusError(resp *http.Response, what string) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	msg := strings.TrimSpace(string(body))
	hint := ""
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		hint = " (a private or gated repository needs HF_TOKEN)"
	case http.StatusNotFound:
		hint = " (check the repository name and --revision)"
	}
	return fmt.Errorf("hfhub: %s: HTTP %s%s: %s", what, resp.Status, hint, httpapi.Redact(msg))
}

// Info lists the files of a repository revision (GET
// /api/models/REPO/revision/REV?blobs=true).
func (c *Client) Info(ctx context.Context, repo, revision string) (*RepoInfo, error) {
	if err := ValidateRepo(repo); err != nil {
		return nil, err
	}
	if revision == "" {
		revision = "main"
	}
	u := c.Endpoint + "/api/models/" + repo + "/revision/" + url.PathEscape(revision) + "?blobs=true"
	resp, err := c.get(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(resp, "listing "+repo+"@"+revision)
	}
	var body struct {
		SHA      string `json:"sha"`
		Siblings []struct {
			RFilename string `json:"rfilename"`
			Size      *int64 `json:"size"`
			BlobID    string `json:"blobId"`
			LFS       *struct {
				SHA256 string `json:"sha256"`
				Size   int64  `json:"size"`
			} `json:"lfs"`
		} `json:"siblings"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&body); err != nil {
		return nil, fmt.Errorf("hfhub: listing %s@%s: bad JSON: %w", repo, revision, err)
	}
	info := &RepoInfo{Repo: repo, Revision: revision, SHA: body.SHA}
	for _, s := range body.Siblings {
		f := FileInfo{Path: s.RFilename, Size: -1}
		if s.Size != nil {
			f.Size = *s.Size
		}
		if s.LFS != nil {
			f.SHA256 = strings.ToLower(s.LFS.SHA256)
			f.Size = s.LFS.Size
		} else {
			f.BlobID = strings.ToLower(s.BlobID)
		}
		info.Files = append(info.Files, f)
	}
	return info, nil
}

// Progress receives download progress; *progress.Bar implements it.
type Progress interface {
	Add(n int64)
	Finish()
}

// PullOptions configures Pull.
type PullOptions struct {
	Revision string // default "main"
	// Files to fetch; nil means SentenceTransformerFiles.
	Files []string
	// NewProgress, if set, is called once with the total bytes to download.
	NewProgress func(total int64) Progress
}

// Pull downloads a model repository's files into dest (created if needed).
// Files already complete in dest are kept; partial downloads resume.
func (c *Client) Pull(ctx context.Context, repo, dest string, o PullOptions) (*RepoInfo, error) {
	info, err := c.Info(ctx, repo, o.Revision)
	if err != nil {
		return nil, err
	}
	want := o.Files
	if want == nil {
		want = SentenceTransformerFiles
	}
	byPath := map[string]FileInfo{}
	for _, f := range info.Files {
		byPath[f.Path] = f
	}
	var todo []FileInfo
	for _, p := range want {
		if f, ok := byPath[p]; ok {
			todo = append(todo, f)
		}
	}
	if o.Files == nil {
		// Weights: safetensors preferred, else an ONNX export.
		if _, ok := byPath["model.safetensors"]; !ok {
			for _, p := range []string{"onnx/model.onnx", "model.onnx"} {
				if f, ok := byPath[p]; ok {
					todo = append(todo, f)
					break
				}
			}
		}
		if err := checkComplete(repo, todo); err != nil {
			return nil, err
		}
	}
	var total int64
	for _, f := range todo {
		total += max(f.Size, 0)
	}
	var prog Progress
	if o.NewProgress != nil {
		prog = o.NewProgress(total)
		defer prog.Finish()
	}
	for _, f := range todo {
		verified, err := c.download(ctx, info, f, dest, prog)
		if err != nil {
			return nil, err
		}
		if !verified {
			info.Unverified = append(info.Unverified, f.Path)
		}
	}
	if err := writeManifest(dest, info, todo); err != nil {
		return nil, err
	}
	return info, nil
}

func checkComplete(repo string, files []FileInfo) error {
	has := map[string]bool{}
	for _, f := range files {
		has[f.Path] = true
	}
	var missing []string
	if !has["config.json"] {
		missing = append(missing, "config.json")
	}
	if !has["tokenizer.json"] && !has["vocab.txt"] {
		missing = append(missing, "tokenizer.json or vocab.txt")
	}
	if !has["model.safetensors"] && !has["model.onnx"] && !has["onnx/model.onnx"] {
		missing = append(missing, "model.safetensors or model.onnx")
	}
	if len(missing) > 0 {
		return fmt.Errorf("hfhub: %s has no %s: is it a BERT sentence-embedding model?", repo, strings.Join(missing, ", "))
	}
	return nil
}

// fileURL is where the hub serves a file's content.
func (c *Client) fileURL(repo, revision, file string) string {
	parts := strings.Split(file, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return c.Endpoint + "/" + repo + "/resolve/" + url.PathEscape(revision) + "/" + strings.Join(parts, "/")
}

// safeJoin joins a repository-relative path to dir, refusing paths that
// would leave it.
func safeJoin(dir, rel string) (string, error) {
	clean := path.Clean("/" + rel)
	if clean == "/" || strings.Contains(rel, "\\") || clean != "/"+rel {
		return "", fmt.Errorf("hfhub: unsafe file name %q in the repository listing", rel)
	}
	return filepath.Join(dir, filepath.FromSlash(clean[1:])), nil
}

// verifier checks a file's content against what the listing says.
type verifier struct {
	h    hash.Hash
	want string
	kind string
}

func newVerifier(f FileInfo) *verifier {
	switch {
	case f.SHA256 != "":
		return &verifier{h: sha256.New(), want: f.SHA256, kind: "SHA-256"}
	case f.BlobID != "" && f.Size >= 0:
		h := sha1.New()
		fmt.Fprintf(h, "blob %d\x00", f.Size)
		return &verifier{h: h, want: f.BlobID, kind: "git blob SHA-1"}
	}
	return &verifier{}
}

func (v *verifier) Write(p []byte) (int, error) {
	if v.h != nil {
		v.h.Write(p)
	}
	return len(p), nil
}

func (v *verifier) check(file string) error {
	if v.h == nil {
		return nil
	}
	if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
		return fmt.Errorf("hfhub: %s: %s checksum mismatch: got %s, want %s; the download was corrupted and has been removed, run the command again", file, v.kind, got, v.want)
	}
	return nil
}

// download fetches one file into dest, resuming FILE.part if present. It
// reports whether the content was checked against a checksum.
func (c *Client) download(ctx context.Context, info *RepoInfo, f FileInfo, dest string, prog Progress) (verified bool, err error) {
	final, err := safeJoin(dest, f.Path)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return false, fmt.Errorf("hfhub: %w", err)
	}
	listed := newVerifier(f)
	// An existing complete file that verifies is kept.
	if st, err := os.Stat(final); err == nil && (f.Size < 0 || st.Size() == f.Size) {
		if ok, err := verifyFile(final, f); err != nil {
			return false, err
		} else if ok {
			if prog != nil {
				prog.Add(st.Size())
			}
			return listed.h != nil, nil
		}
	}
	part := final + ".part"
	v := listed
	var have int64
	if v.h == nil {
		// Without a checksum in the listing a partial file cannot be
		// trusted to resume from: start again (such files are small).
		os.Remove(part)
	} else if st, err := os.Stat(part); err == nil && st.Size() > 0 && (f.Size < 0 || st.Size() <= f.Size) {
		// Hash what is already there, then ask for the rest.
		pf, err := os.Open(part)
		if err != nil {
			return false, fmt.Errorf("hfhub: %w", err)
		}
		have, err = io.Copy(v, pf)
		pf.Close()
		if err != nil {
			return false, fmt.Errorf("hfhub: reading %s: %w", part, err)
		}
	}
	if f.Size >= 0 && have == f.Size && have > 0 {
		// The part is complete; only verification and the rename are left.
		if prog != nil {
			prog.Add(have)
		}
		return true, finish(v, f.Path, part, final)
	}
	hdr := map[string]string{}
	if have > 0 {
		hdr["Range"] = "bytes=" + strconv.FormatInt(have, 10) + "-"
	}
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	resp, err := c.get(rctx, c.fileURL(info.Repo, info.Revision, f.Path), hdr)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	flags := os.O_WRONLY | os.O_CREATE
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		if !strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes "+strconv.FormatInt(have, 10)+"-") {
			return false, fmt.Errorf("hfhub: %s: the server resumed at the wrong offset (Content-Range %q, want %d)", f.Path, resp.Header.Get("Content-Range"), have)
		}
		flags |= os.O_APPEND
	case resp.StatusCode == http.StatusOK:
		// Full content: start over (also when the server ignored Range).
		flags |= os.O_TRUNC
		v = newVerifier(f)
		have = 0
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
		os.Remove(part)
		return false, fmt.Errorf("hfhub: %s: the partial download %s does not match the server's file and was removed; run the command again", f.Path, part)
	default:
		return false, statusError(resp, "downloading "+f.Path)
	}
	// The size to write: the listing's, else what the response declares.
	declared := f.Size
	if resp.ContentLength >= 0 {
		if got := have + resp.ContentLength; declared >= 0 && got != declared {
			return false, fmt.Errorf("hfhub: %s: the server sends %d bytes, the listing says %d; nothing written", f.Path, got, declared)
		} else if declared < 0 {
			declared = got
		}
	}
	if v.h == nil {
		v = headerVerifier(resp, c.Endpoint, declared)
	}
	limit := declared
	if limit < 0 {
		limit = maxUndeclared
	}
	if prog != nil && have > 0 {
		prog.Add(have)
	}
	out, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return false, fmt.Errorf("hfhub: %w", err)
	}
	idle := c.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	body := httpapi.NewIdleReader(resp.Body, idle, cancel)
	defer body.Close()
	w := io.MultiWriter(out, v, progressWriter{prog})
	// Never more than the declared size: copy up to it, then look for one
	// byte more.
	n, err := io.CopyN(w, body, limit-have)
	switch {
	case err == io.EOF:
		err = nil // short: reported below
	case err == nil:
		var one [1]byte
		if m, _ := io.ReadFull(body, one[:]); m > 0 {
			out.Close()
			os.Remove(part)
			return false, fmt.Errorf("hfhub: %s: the server sent more than the declared %d bytes; stopped at that size and removed the download", f.Path, limit)
		}
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		var ie *httpapi.IdleError
		if cause := context.Cause(rctx); errors.As(cause, &ie) {
			err = cause
		}
		if listed.h == nil {
			os.Remove(part)
			return false, fmt.Errorf("hfhub: downloading %s: %w", f.Path, err)
		}
		// Keep the .part file: the next pull resumes from it.
		return false, fmt.Errorf("hfhub: downloading %s (%d bytes so far, kept in %s to resume): %w", f.Path, have+n, part, err)
	}
	if declared >= 0 && have+n != declared {
		if listed.h == nil {
			os.Remove(part)
			return false, fmt.Errorf("hfhub: %s: got %d bytes, want %d", f.Path, have+n, declared)
		}
		return false, fmt.Errorf("hfhub: %s: got %d bytes, want %d (kept in %s to resume)", f.Path, have+n, declared, part)
	}
	return v.h != nil, finish(v, f.Path, part, final)
}

// headerVerifier takes a checksum from the response when the listing gave
// none: X-Linked-Etag (the SHA-256 of an LFS file, sent by the hub on the
// redirect to its storage) on any response of the redirect chain, else the
// ETag of a response from the hub itself (the SHA-256 of an LFS file, or the
// git blob SHA-1 of a small one). Anything else gives no verifier.
func headerVerifier(resp *http.Response, endpoint string, size int64) *verifier {
	var chain []*http.Response
	for r := resp; r != nil; {
		chain = append(chain, r)
		if r.Request == nil {
			break
		}
		r = r.Request.Response
	}
	for _, r := range chain {
		if e := etagHex(r.Header.Get("X-Linked-Etag")); len(e) == 64 {
			return &verifier{h: sha256.New(), want: e, kind: "SHA-256 (X-Linked-Etag)"}
		}
	}
	hub, err := url.Parse(endpoint)
	if err != nil {
		return &verifier{}
	}
	for _, r := range chain {
		if r.Request == nil || !strings.EqualFold(r.Request.URL.Host, hub.Host) {
			continue
		}
		switch e := etagHex(r.Header.Get("ETag")); {
		case len(e) == 64:
			return &verifier{h: sha256.New(), want: e, kind: "SHA-256 (ETag)"}
		case len(e) == 40 && size >= 0:
			h := sha1.New()
			fmt.Fprintf(h, "blob %d\x00", size)
			return &verifier{h: h, want: e, kind: "git blob SHA-1 (ETag)"}
		}
	}
	return &verifier{}
}

// etagHex returns an entity tag's value when it is lowercase-able hex, else "".
func etagHex(tag string) string {
	tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
	tag = strings.ToLower(strings.Trim(tag, `"`))
	if _, err := hex.DecodeString(tag); err != nil || tag == "" {
		return ""
	}
	return tag
}

func finish(v *verifier, name, part, final string) error {
	if err := v.check(name); err != nil {
		os.Remove(part)
		return err
	}
	if err := outfile.Move(part, final); err != nil {
		return fmt.Errorf("hfhub: %w", err)
	}
	return nil
}

type progressWriter struct{ p Progress }

func (w progressWriter) Write(b []byte) (int, error) {
	if w.p != nil {
		w.p.Add(int64(len(b)))
	}
	return len(b), nil
}

// verifyFile reports whether the file at p matches f's checksum (true when
// the listing has none).
func verifyFile(p string, f FileInfo) (bool, error) {
	v := newVerifier(f)
	if v.h == nil {
		return true, nil
	}
	fh, err := os.Open(p)
	if err != nil {
		return false, fmt.Errorf("hfhub: %w", err)
	}
	defer fh.Close()
	if _, err := io.Copy(v, fh); err != nil {
		return false, fmt.Errorf("hfhub: reading %s: %w", p, err)
	}
	return v.check(f.Path) == nil, nil
}

// ManifestName is the file Pull writes beside the model files.
const ManifestName = ".kura-model.json"

// Manifest records where a pulled model came from.
type Manifest struct {
	Repo     string   `json:"repo"`
	Revision string   `json:"revision"`
	SHA      string   `json:"sha,omitempty"`
	Files    []string `json:"files"`
	// Unverified lists the files installed without a checksum.
	Unverified []string  `json:"unverified,omitempty"`
	Pulled     time.Time `json:"pulled"`
}

func writeManifest(dest string, info *RepoInfo, files []FileInfo) error {
	m := Manifest{Repo: info.Repo, Revision: info.Revision, SHA: info.SHA, Unverified: info.Unverified, Pulled: time.Now().UTC()}
	for _, f := range files {
		m.Files = append(m.Files, f.Path)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("hfhub: %w", err)
	}
	if err := outfile.WriteFile(filepath.Join(dest, ManifestName), append(b, '\n')); err != nil {
		return fmt.Errorf("hfhub: %w", err)
	}
	return nil
}

// ErrNoCache is returned when no cache directory can be determined.
var ErrNoCache = errors.New("hfhub: no cache directory (set KURA_CACHE_DIR or HOME)")
