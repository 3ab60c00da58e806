package backend

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/minilm"
)

// modelFixture is a tiny BERT model folder with everything minilm needs.
const modelFixture = "../../bert/testdata/bert-tiny"

// isolate clears every place a key, a base URL or a model could come from,
// so that the auto rule sees only what a test sets.
func isolate(t *testing.T) {
	t.Helper()
	empty := t.TempDir()
	for _, v := range []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "KURA_MODEL_DIR"} {
		t.Setenv(v, "")
	}
	for _, v := range []string{"KURA_CACHE_DIR", "HF_HOME", "HF_HUB_CACHE", "XDG_CACHE_HOME", "HOME"} {
		t.Setenv(v, empty)
	}
}

func TestChoose(t *testing.T) {
	isolate(t)
	spec := func(edit func(*Spec)) Spec {
		s := DefaultSpec()
		if edit != nil {
			edit(&s)
		}
		return s
	}
	tests := []struct {
		name     string
		key      string // OPENAI_API_KEY
		modelEnv string // KURA_MODEL_DIR
		s        Spec
		kind     string
		why      string // a part of the reason
		invalid  bool   // the error matches ErrInvalid
		err      string // a part of the error; "" for none
	}{
		// The environment alone never chooses the paid API (issue 13).
		{"auto, key, no model", "sk-x", "", spec(nil), "hash", "OPENAI_API_KEY is set but the API is used only with --embedder openai", false, ""},
		{"auto, key, model installed", "sk-x", modelFixture, spec(nil), "minilm", "auto: local model found in " + modelFixture, false, ""},
		{"auto, no key, model installed", "", modelFixture, spec(nil), "minilm", "auto: local model found in " + modelFixture, false, ""},
		{"auto, no key, no model", "", "", spec(nil), "hash", "kura models pull " + minilm.DefaultModel, false, ""},
		{"auto, base URL, no key", "", modelFixture, spec(func(s *Spec) { s.BaseURL = "http://127.0.0.1:1/v1" }), "openai", "auto: --base-url given", false, ""},
		{"auto, --model-dir", "", "", spec(func(s *Spec) { s.ModelDir = modelFixture }), "minilm", "auto: local model found in " + modelFixture, false, ""},
		{"mock shorthand", "sk-x", "", spec(func(s *Spec) { s.Mock = true }), "mock", "--mock", false, ""},
		{"mock shorthand and kind mock", "", "", spec(func(s *Spec) { s.Mock, s.Kind = true, "mock" }), "mock", "--mock", false, ""},
		{"explicit, any case", "sk-x", modelFixture, spec(func(s *Spec) { s.Kind = " HASH " }), "hash", "--embedder hash", false, ""},
		{"explicit minilm without a model", "", "", spec(func(s *Spec) { s.Kind = "minilm" }), "minilm", "--embedder minilm", false, ""},
		{"unknown kind", "", "", spec(func(s *Spec) { s.Kind = "bert" }), "", "", true, `--embedder must be one of auto, mock, hash, minilm, openai, not "bert"`},
		{"mock contradicts kind", "", "", spec(func(s *Spec) { s.Mock, s.Kind = true, "hash" }), "", "", true, "--mock contradicts --embedder hash"},
		// A --model-dir that holds no model is an error, not a silent
		// fall back to hash; it is not ErrInvalid (exit 1, as a missing file).
		{"auto, unusable --model-dir", "", "", spec(func(s *Spec) { s.ModelDir = filepath.Join(t.TempDir(), "nope") }), "", "", false, "is not a folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("OPENAI_API_KEY", tt.key)
			t.Setenv("KURA_MODEL_DIR", tt.modelEnv)
			kind, why, err := Choose(tt.s)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || errors.Is(err, ErrInvalid) != tt.invalid {
					t.Fatalf("error %v (ErrInvalid %v), want %q (ErrInvalid %v)", err, errors.Is(err, ErrInvalid), tt.err, tt.invalid)
				}
				return
			}
			if err != nil || kind != tt.kind || !strings.Contains(why, tt.why) {
				t.Errorf("got %q (%s), %v; want %q (%s)", kind, why, err, tt.kind, tt.why)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	isolate(t)
	if err := DefaultSpec().Validate(); err != nil {
		t.Fatalf("DefaultSpec: %v", err)
	}
	neg := -0.5
	tests := []struct {
		name string
		edit func(*Spec)
		want string
	}{
		{"batch size 0", func(s *Spec) { s.BatchSize = 0 }, "--batch-size must be at least 1, not 0"},
		{"minilm batch size negative", func(s *Spec) { s.MiniLMBatchSize = -1 }, "--batch-size must be at least 1, not -1"},
		{"concurrency 0", func(s *Spec) { s.Concurrency = 0 }, "--concurrency must be at least 1, not 0"},
		{"dims negative", func(s *Spec) { s.Dims = -3 }, "--dims must be positive, not -3"},
		{"dims absurd", func(s *Spec) { s.Dims = 100_000_000 }, "--dims 100000000 is over kura's limit"},
		{"timeout 0", func(s *Spec) { s.Timeout = 0 }, "--timeout must be positive, not 0s"},
		{"retries negative", func(s *Spec) { s.MaxRetries = -1 }, "--max-retries must be 0 or more, not -1"},
		{"latency negative", func(s *Spec) { s.MockLatency = -time.Millisecond }, "--mock-latency must not be negative"},
		{"price negative", func(s *Spec) { s.PricePerMillion = &neg }, "--price-per-million: -0.5 is not a price"},
		{"price huge", func(s *Spec) { huge := 1e308; s.PricePerMillion = &huge }, "--price-per-million: 1e+308 is not a price"},
		{"threads negative", func(s *Spec) { s.Threads = -1 }, "--threads must not be negative"},
		{"unknown kind", func(s *Spec) { s.Kind = "word2vec" }, "--embedder must be one of"},
		{"mock contradicts kind", func(s *Spec) { s.Mock, s.Kind = true, "openai" }, "--mock contradicts --embedder openai"},
	}
	for _, tt := range tests {
		s := DefaultSpec()
		tt.edit(&s)
		err := s.Validate()
		if err == nil || err.Error() != strings.TrimSpace(err.Error()) || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v (ErrInvalid %v), want %q and ErrInvalid", tt.name, err, errors.Is(err, ErrInvalid), tt.want)
		}
	}
}

func TestBuild(t *testing.T) {
	isolate(t)
	tests := []struct {
		name    string
		key     string
		edit    func(*Spec)
		embName string // Name() of the embedder; "" when an error is expected
		dims    int    // 0: not checked
		kind    string // Choice.Kind
		err     string // a part of the error
		target  error  // errors.Is target of the error
	}{
		{"hash", "", func(s *Spec) { s.Kind, s.Dims = "hash", 64 }, "hash", 64, "hash", "", nil},
		{"hash default dims (auto)", "", nil, "hash", 1024, "hash", "", nil},
		{"mock", "", func(s *Spec) { s.Mock = true }, "mock:text-embedding-3-small", 1536, "mock", "", nil},
		{"mock of another model", "", func(s *Spec) { s.Kind, s.Model, s.Dims = "mock", "text-embedding-3-large", 8 }, "mock:text-embedding-3-large", 8, "mock", "", nil},
		{"minilm", "", func(s *Spec) { s.Kind, s.ModelDir, s.Threads, s.MiniLMBatchSize = "minilm", modelFixture, 1, 4 }, "minilm:bert-tiny", 0, "minilm", "", nil},
		{"openai", "sk-x", func(s *Spec) { s.BaseURL = "http://127.0.0.1:1/v1" }, "openai:text-embedding-3-small", 1536, "openai", "", nil},
		{"hash with --model", "", func(s *Spec) { s.Kind, s.Model = "hash", "m" }, "", 0, "", "--model does not apply to the hash embedder", ErrInvalid},
		{"minilm with --dims", "", func(s *Spec) { s.Kind, s.ModelDir, s.Dims = "minilm", modelFixture, 8 }, "", 0, "", "--dims does not apply to minilm", ErrInvalid},
		{"minilm with --model", "", func(s *Spec) { s.Kind, s.ModelDir, s.Model = "minilm", modelFixture, "m" }, "", 0, "", "--model does not apply to minilm; use --model-dir", ErrInvalid},
		{"minilm not installed", "", func(s *Spec) { s.Kind = "minilm" }, "", 0, "", "kura models pull " + minilm.DefaultModel, minilm.ErrNoModel},
		{"openai, base URL without scheme", "sk-x", func(s *Spec) { s.Kind, s.BaseURL = "openai", "localhost:1234" }, "", 0, "", "localhost:1234", ErrInvalid},
		{"invalid before anything", "", func(s *Spec) { s.BatchSize = 0 }, "", 0, "", "--batch-size", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("OPENAI_API_KEY", tt.key)
			s := DefaultSpec()
			if tt.edit != nil {
				tt.edit(&s)
			}
			e, c, err := Build(context.Background(), s, []string{"a billing question", "a refund request", "a billing dispute"})
			if tt.embName == "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, tt.target) {
					t.Fatalf("error %v, want %q matching %v", err, tt.err, tt.target)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cl, ok := e.(interface{ Close() error }); ok {
				defer cl.Close()
			}
			if !strings.HasPrefix(e.Name(), tt.embName) || (tt.dims != 0 && e.Dims() != tt.dims) || c.Kind != tt.kind || c.Why == "" {
				t.Errorf("built %s (%d dims), choice %+v; want %s (%d dims), kind %s", e.Name(), e.Dims(), c, tt.embName, tt.dims, tt.kind)
			}
			if tt.kind == "openai" {
				return // New sends nothing; the client has tests of its own
			}
			v, err := e.Embed(context.Background(), []string{"a billing question"})
			if err != nil || len(v) != 1 || len(v[0]) != e.Dims() {
				t.Errorf("embedding one text: %d vectors, %v", len(v), err)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Build(ctx, DefaultSpec(), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
}

// TestPrices: --prices and --price-per-million go into embed's price table,
// which every cost in the process is computed from, and Price and APICost
// read it. Model names are unique to each run of this test (-count): the
// table is global.
var pricesRuns atomic.Int64

func TestPrices(t *testing.T) {
	isolate(t)
	run := pricesRuns.Add(1)
	model := fmt.Sprintf("backend-test-model-%d", run)
	fileModel := fmt.Sprintf("backend-test-file-model-%d", run)
	s := DefaultSpec()
	if s.APIModel() != "text-embedding-3-small" {
		t.Errorf("default API model %q", s.APIModel())
	}
	if p, ok := s.Price(); !ok || p != 0.02 {
		t.Errorf("default price %v, %v; want 0.02 from the table", p, ok)
	}

	s.Mock, s.Model = true, model
	if _, ok := s.Price(); ok {
		t.Fatal("an unknown model has a price before Build")
	}
	price := 1.5
	s.PricePerMillion = &price
	if _, _, err := Build(context.Background(), s, nil); err != nil {
		t.Fatal(err)
	}
	if p, ok := s.Price(); !ok || p != 1.5 {
		t.Errorf("price with --price-per-million: %v, %v; want 1.5", p, ok)
	}
	if usd, ok := s.APICost(2_000_000); !ok || usd != 3 {
		t.Errorf("APICost(2M tokens) = %v, %v; want 3 USD", usd, ok)
	}
	if _, ok := embed.DefaultPrices().Lookup(model); ok {
		t.Error("Build changed the default price table")
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "prices.json")
	if err := os.WriteFile(file, []byte(`{"`+fileModel+`": 0.25}`), 0o644); err != nil {
		t.Fatal(err)
	}
	f := DefaultSpec()
	f.Kind, f.PriceFile = "hash", file
	if _, _, err := Build(context.Background(), f, nil); err != nil {
		t.Fatal(err)
	}
	if prices, err := f.Prices(); err != nil || prices[fileModel] != 0.25 || prices["text-embedding-3-small"] != 0.02 {
		t.Errorf("prices with --prices: %v, %v; want %s at 0.25 beside the list prices", prices, err, fileModel)
	}
	f.PriceFile = filepath.Join(dir, "missing.json")
	// The price file is part of how kura was called: a missing or bad one
	// is ErrInvalid (a usage error), naming the flag and the file.
	if _, _, err := Build(context.Background(), f, nil); err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "--prices") || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing price file: %v; want ErrInvalid naming --prices and the file", err)
	}
	f.PriceFile = filepath.Join(dir, "huge.json")
	os.WriteFile(f.PriceFile, []byte(`{"m": 1e308}`), 0o644)
	if _, _, err := Build(context.Background(), f, nil); err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "huge.json") || !strings.Contains(err.Error(), "1e+308") {
		t.Errorf("price 1e308 in the file: %v; want ErrInvalid naming the file and value", err)
	}
}

func TestExpectedDims(t *testing.T) {
	isolate(t)
	tests := []struct {
		name string
		edit func(*Spec)
		want int
	}{
		{"auto without a model: hash", nil, 1024},
		{"dims given", func(s *Spec) { s.Dims = 256 }, 256},
		{"mock: text-embedding-3-small's", func(s *Spec) { s.Mock = true }, 1536},
		{"openai, known model", func(s *Spec) { s.Kind, s.Model = "openai", "text-embedding-3-large" }, 3072},
		{"openai, unknown model", func(s *Spec) { s.Kind, s.Model = "openai", "nomic-embed-text" }, 0},
		{"minilm, none installed: the default model's", func(s *Spec) { s.Kind = "minilm" }, 384},
		{"minilm, the model in --model-dir: its config.json's", func(s *Spec) { s.Kind, s.ModelDir = "minilm", modelFixture }, 32},
		{"auto, a model in --model-dir: its config.json's", func(s *Spec) { s.ModelDir = modelFixture }, 32},
		{"invalid kind", func(s *Spec) { s.Kind = "bert" }, 0},
	}
	for _, tt := range tests {
		s := DefaultSpec()
		if tt.edit != nil {
			tt.edit(&s)
		}
		if got := s.ExpectedDims(); got != tt.want {
			t.Errorf("%s: ExpectedDims() = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// An API embedder's endpoint is logged last, as its own attribute (it was
// inside why, making a line of 139 columns), and kept in the choice's why.
func TestBuildLogsEndpointLast(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-x")
	var b bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&b, nil)))
	s := DefaultSpec()
	s.Kind, s.BaseURL = "openai", "http://127.0.0.1:1/v1"
	e, c, err := Build(context.Background(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cl, ok := e.(interface{ Close() error }); ok {
		defer cl.Close()
	}
	line := strings.TrimSpace(b.String())
	if !strings.Contains(line, `why="--embedder openai" endpoint=http://127.0.0.1:1/v1/embeddings`) || !strings.HasSuffix(line, "endpoint=http://127.0.0.1:1/v1/embeddings") {
		t.Errorf("logged %q", line)
	}
	if !strings.HasSuffix(c.Why, ", endpoint http://127.0.0.1:1/v1/embeddings") {
		t.Errorf("choice's why %q", c.Why)
	}
}
