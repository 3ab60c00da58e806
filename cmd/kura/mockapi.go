package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/backend"
	"github.com/kura-go/kura/embed/tokens"
	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/internal/outfile"
	"github.com/kura-go/kura/mockapi"
	"github.com/spf13/cobra"
)

func init() { register(newMockAPICmd) }

// secondsValue is a duration flag that also accepts a plain number of
// seconds ("1", "0.5"), as Retry-After is given in seconds.
type secondsValue struct{ d *time.Duration }

func (v secondsValue) String() string {
	if v.d == nil {
		return ""
	}
	return strconv.FormatFloat(v.d.Seconds(), 'f', -1, 64)
}

func (v secondsValue) Set(s string) error {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		*v.d = time.Duration(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("want seconds (1, 0.5) or a duration (1500ms), not %q", s)
	}
	*v.d = d
	return nil
}

func (v secondsValue) Type() string { return "seconds" }

func newMockAPICmd() *cobra.Command {
	var (
		c           mockapi.Config
		addr        string
		allowRemote bool
		embedder    string
		statsJSON   string
		modelDir    string // minilm
		threads     int    // minilm
	)
	c.RetryAfter = time.Second
	cmd := &cobra.Command{
		Use:   "mock-api",
		Short: "Serve a fake OpenAI-compatible API to rehearse load tests at zero cost",
		Long: `mock-api serves a fake OpenAI-compatible API on 127.0.0.1: POST /v1/embeddings,
POST /v1/chat/completions (plain text, JSON mode, JSON-schema structured outputs
and forced tool calls, answered with JSON that conforms to the schema),
GET /v1/models, GET /stats with counts of what it served, and POST
/stats/reset. Paths also work without /v1.

Latency, per-minute request and token limits (429 with Retry-After and
x-ratelimit-* headers, as OpenAI does) and injected faults make a rehearsal
realistic: --rate-limit-rate, --error-rate, --timeout-rate and --malformed-rate
are disjoint fractions of the API requests (their sum is at most 1), drawn from
a stream seeded by --seed. A timed-out request is held unanswered until the
client gives up. A malformed answer is invalid JSON, one vector short, or one
vector of the wrong length (chat: invalid JSON, no choices, or cut content).

The first line on stdout is the base URL to give clients (--base-url or
OPENAI_BASE_URL). Ctrl-C stops the server gracefully and prints the final
counts on stderr.`,
		Example: `  # Rehearse a load test: 100 ms latency, 3,000 requests per minute, 5% 500s
  kura mock-api --latency 100ms --jitter 20ms --rpm 3000 --error-rate 0.05

  # Pick a free port; the first stdout line is the base URL
  kura mock-api --addr 127.0.0.1:0 --rate-limit-rate 0.3 --retry-after 1

  # Point a client at it
  curl -s localhost:8089/v1/embeddings \
      -d '{"model":"text-embedding-3-small","input":["hello"]}'
  curl -s localhost:8089/stats`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !allowRemote {
				if err := mockapi.CheckLoopback(addr); err != nil {
					return usageErrorf("--addr: %v; kura mock-api has no authentication worth the name: pass --allow-remote to serve other hosts", err)
				}
			}
			if err := c.Validate(); err != nil {
				return usageErrorf("%v", strings.TrimPrefix(err.Error(), "mockapi: "))
			}
			if statsJSON != "" {
				if err := outfile.CheckDir(statsJSON); err != nil {
					return usageErrorf("--stats-json: %v", err)
				}
			}
			switch kind := strings.ToLower(embedder); kind {
			case "mock":
				// nil: the mock embedder's vectors, any dims per request.
			case "hash", "minilm":
				s := backend.DefaultSpec()
				s.Kind, s.Dims, s.ModelDir, s.Threads = kind, c.Dims, modelDir, threads
				if kind == "hash" && s.Dims == 0 {
					s.Dims = mockapi.DefaultDims
				}
				e, _, err := backend.Build(cmd.Context(), s, nil)
				if err != nil {
					return usageErr(err)
				}
				c.Embedder = e
			default:
				return usageErrorf("--embedder must be mock, hash or minilm, not %q", embedder)
			}
			// The token table (about 7 ms to load) is loaded before the
			// server says it is listening, not while it answers the first
			// requests.
			if err := tokens.Init(); err != nil {
				return err
			}
			ctx := cmd.Context()
			s, base, err := mockapi.Start(ctx, addr, c)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), base)
			// Three short lines, the simulation's settings only when set
			// (one line of every setting was over 200 columns).
			slog.Info("mock API listening", "url", base, "embedder", embedderName(c.Embedder))
			slog.Info("its counts", "url", strings.TrimSuffix(base, "/v1")+"/stats")
			var set []any
			for _, a := range []struct {
				name string
				v    any
				on   bool
			}{
				{"latency", c.Latency, c.Latency > 0}, {"jitter", c.Jitter, c.Jitter > 0},
				{"rpm", c.RPM, c.RPM > 0}, {"tpm", c.TPM, c.TPM > 0},
				{"rate_limit_rate", c.RateLimitRate, c.RateLimitRate > 0}, {"error_rate", c.ErrorRate, c.ErrorRate > 0},
				{"timeout_rate", c.TimeoutRate, c.TimeoutRate > 0}, {"malformed_rate", c.MalformedRate, c.MalformedRate > 0},
			} {
				if a.on {
					set = append(set, a.name, a.v)
				}
			}
			if len(set) > 0 {
				slog.Info("it simulates", append(set, "seed", c.Seed)...)
			}
			<-ctx.Done()
			slog.Debug("shutting down")
			werr := s.Wait()
			st := s.Stats()
			// The final counts, with thousands separators, within the
			// terminal's width (one line of 172 columns before).
			k, c := func(n int64) string { return human.Thousands(int(n)) }, human.Count
			fmt.Fprintln(cmd.ErrOrStderr(), human.Wrap(fmt.Sprintf("kura mock-api: %s: %s ok, %s rate-limited (%s injected, %s rpm, %s tpm), %s, %s, %s malformed, %s, %s canceled; %s, %s",
				c(st.Requests, "request", "requests"), k(st.OK), k(st.RateLimited), k(st.RateLimitedInjected), k(st.RateLimitedRPM), k(st.RateLimitedTPM),
				c(st.ServerErrors, "server error", "server errors"), c(st.Timeouts, "timeout", "timeouts"), k(st.Malformed), c(st.BadRequests, "bad request", "bad requests"),
				k(st.Canceled), c(st.Inputs, "input", "inputs"), c(st.Tokens, "token", "tokens")), terminalWidth(os.Stderr)))
			if statsJSON != "" {
				b, err := json.MarshalIndent(st, "", "  ")
				if err != nil {
					return fmt.Errorf("--stats-json: cannot encode the counts: %w", err)
				}
				if err := outfile.WriteFile(statsJSON, append(b, '\n')); err != nil {
					return fmt.Errorf("writing --stats-json: %w", err)
				}
			}
			return werr
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8089", "listen address; port 0 picks a free port")
	f.BoolVar(&allowRemote, "allow-remote", false, "allow listening on a non-loopback address")
	f.DurationVar(&c.Latency, "latency", 0, "time before each answer (429s are answered at once), e.g. 100ms")
	f.DurationVar(&c.Jitter, "jitter", 0, "latency varies uniformly within ± this")
	f.IntVar(&c.RPM, "rpm", 0, "requests per minute before 429s (0: unlimited)")
	f.IntVar(&c.TPM, "tpm", 0, "tokens per minute before 429s (0: unlimited)")
	f.Float64Var(&c.RateLimitRate, "rate-limit-rate", 0, "fraction of requests answered 429 regardless of limits")
	f.Var(secondsValue{&c.RetryAfter}, "retry-after", "Retry-After of injected 429s, in seconds or as a duration (negative: none)")
	f.Float64Var(&c.ErrorRate, "error-rate", 0, "fraction of requests answered 500")
	f.Float64Var(&c.TimeoutRate, "timeout-rate", 0, "fraction of requests never answered")
	f.Float64Var(&c.MalformedRate, "malformed-rate", 0, "fraction of requests answered with a malformed body")
	f.IntVar(&c.Dims, "dims", 0, "vector length when a request has no \"dimensions\" (default: the model's, 1536)")
	f.Int64Var(&c.Seed, "seed", 1, "seed of the fault and jitter draws")
	f.StringVar(&embedder, "embedder", "mock", "vectors: mock (hash of the text, as --embedder mock), hash (lexical, similar texts get similar vectors)\nor minilm (real local model: kura models pull)")
	f.StringVar(&modelDir, "model-dir", "", "minilm: model folder (default: KURA_MODEL_DIR, kura's cache, the Hugging Face cache)")
	f.IntVar(&threads, "threads", 0, "minilm: goroutines (default: all cores)")
	f.StringVar(&c.APIKey, "api-key", "", "require this key as \"Authorization: Bearer KEY\" (default: accept any)")
	f.StringVar(&statsJSON, "stats-json", "", "write the final counts as JSON to this file on shutdown")
	return cmd
}

func embedderName(e embed.Embedder) string {
	if e == nil {
		return "mock"
	}
	return e.Name()
}
