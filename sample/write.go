package sample

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"

	"github.com/kura-go/kura/conversation"
	"github.com/kura-go/kura/internal/outfile"
)

// File names written by WriteDir (a Kura checkpoint directory).
const (
	ConversationsFile = "conversations.jsonl"
	SummariesFile     = "summaries.jsonl"
	ClustersFile      = "clusters.jsonl"
)

// chunkSize is the number of conversations a worker generates and encodes
// at a time; it bounds memory together with the number of chunks in flight.
const chunkSize = 1024

// WriteDir writes the corpus described by opts to dir (created if needed)
// as a Kura checkpoint: conversations.jsonl, summaries.jsonl (embedding
// null) and clusters.jsonl, one cluster per topic holding the chat ids of
// that topic's conversations, the ground truth for clustering.
//
// Generation is streamed and spread over all CPUs; memory stays bounded
// (about 3 bytes per conversation for the topic of each, plus the chat ids
// of the largest topic while its cluster is written). On error or
// cancellation the files written so far are removed.
func WriteDir(ctx context.Context, dir string, opts Options) (err error) {
	g, err := NewGenerator(opts)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Files of a previous pipeline run would not match the new corpus.
	for _, name := range []string{"meta_clusters.jsonl", "meta_clusters.parquet", "dimensionality.jsonl", "dimensionality.parquet", "clusters.parquet", "summaries.parquet", "conversations.parquet"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			slog.Warn("sample: output directory holds a file from another corpus; it does not match the new one", "file", filepath.Join(dir, name))
		}
	}
	// The files are written beside their targets and moved into place only
	// when all three are complete, so that an error or an interruption
	// neither leaves truncated files under the final names nor destroys a
	// corpus the directory held before.
	var files []*outfile.File
	defer func() {
		for _, f := range files {
			f.Abort()
		}
		if err != nil {
			err = fmt.Errorf("sample: writing %d conversations to %s, nothing written: %w", opts.Conversations, dir, err)
		}
	}()
	for _, name := range []string{ConversationsFile, SummariesFile, ClustersFile} {
		f, err := outfile.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		files = append(files, f)
	}
	topics, err := g.writeRecords(ctx, files[0].File, files[1].File)
	if err != nil {
		return err
	}
	if err := g.writeClusters(ctx, files[2].File, topics); err != nil {
		return err
	}
	for _, f := range files {
		if err := f.Commit(); err != nil {
			return err
		}
	}
	return nil
}

type chunkResult struct {
	conv, sum *bytes.Buffer
	err       error
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writeRecords generates all conversations in parallel chunks and writes
// them in order; it returns the topic of every conversation.
func (g *Generator) writeRecords(ctx context.Context, convF, sumF *os.File) ([]uint8, error) {
	n := g.opts.Conversations
	topics := make([]uint8, n)
	cw := bufio.NewWriterSize(convF, 1<<20)
	sw := bufio.NewWriterSize(sumF, 1<<20)

	workers := runtime.GOMAXPROCS(0)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type job struct {
		start int
		out   chan chunkResult
	}
	jobs := make(chan job)
	order := make(chan chan chunkResult, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				j.out <- g.encodeChunk(j.start, min(j.start+chunkSize, n), topics)
			}
		}()
	}
	go func() {
		defer close(order)
		defer close(jobs)
		for start := 0; start < n; start += chunkSize {
			out := make(chan chunkResult, 1)
			select {
			case order <- out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{start, out}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var err error
	done := 0
	for out := range order {
		var r chunkResult
		select {
		case r = <-out:
		case <-ctx.Done():
		}
		if err == nil {
			switch {
			case ctx.Err() != nil:
				err = ctx.Err()
			case r.err != nil:
				err = r.err
			default:
				if _, e := cw.Write(r.conv.Bytes()); e != nil {
					err = e
				} else if _, e := sw.Write(r.sum.Bytes()); e != nil {
					err = e
				}
			}
			if err != nil {
				cancel()
			}
		}
		if r.conv != nil {
			r.conv.Reset()
			r.sum.Reset()
			bufPool.Put(r.conv)
			bufPool.Put(r.sum)
		}
		if err == nil {
			done = min(done+chunkSize, n)
			if g.opts.Progress != nil {
				g.opts.Progress(done)
			}
		}
	}
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if err := cw.Flush(); err != nil {
		return nil, err
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	return topics, nil
}

// encodeChunk generates conversations [start, end) as JSON lines.
func (g *Generator) encodeChunk(start, end int, topics []uint8) chunkResult {
	r := chunkResult{conv: bufPool.Get().(*bytes.Buffer), sum: bufPool.Get().(*bytes.Buffer)}
	ce := json.NewEncoder(r.conv)
	ce.SetEscapeHTML(false)
	se := json.NewEncoder(r.sum)
	se.SetEscapeHTML(false)
	k := len(g.topics)
	var perm []int
	for i := start; i < end; i++ {
		if i == start || i%k == 0 {
			perm = g.blockPerm(i/k, perm)
		}
		conv, sum, t := g.build(i, perm[i%k], true)
		topics[i] = uint8(t)
		if err := encodeLine(r.conv, ce, conv); err != nil {
			r.err = fmt.Errorf("sample: encoding conversation %d: %w", i, err)
			return r
		}
		if err := encodeLine(r.sum, se, sum); err != nil {
			r.err = fmt.Errorf("sample: encoding summary %d: %w", i, err)
			return r
		}
	}
	return r
}

// encodeLine appends v as one JSON line. A record type with its own
// MarshalJSON (the conversation package writes Kura's exact layout) is
// written as is, skipping encoding/json's re-validation of the output.
func encodeLine(buf *bytes.Buffer, enc *json.Encoder, v any) error {
	if m, ok := v.(json.Marshaler); ok {
		b, err := m.MarshalJSON()
		if err != nil {
			return err
		}
		buf.Write(b)
		return buf.WriteByte('\n')
	}
	return enc.Encode(v)
}

// writeClusters writes one ground-truth cluster per topic. The chat ids are
// streamed into the line rather than collected, so that even a single
// topic of millions of conversations costs no memory: the rest of the line
// comes from the record's own encoder, with an empty id list to fill in.
func (g *Generator) writeClusters(ctx context.Context, f *os.File, topics []uint8) error {
	w := bufio.NewWriterSize(f, 1<<20)
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	const key = `"chat_ids":[`
	var id []byte
	for t := range g.topics {
		if err := ctx.Err(); err != nil {
			return err
		}
		d := g.topics[t].def
		c := conversation.Cluster{
			ID:          g.ClusterID(t),
			Name:        d.name,
			Description: d.desc,
			Slug:        d.slug,
			ChatIDs:     []string{},
		}
		line.Reset()
		if err := encodeLine(&line, enc, c); err != nil {
			return fmt.Errorf("sample: encoding cluster %q: %w", d.slug, err)
		}
		b := line.Bytes()
		k := bytes.Index(b, []byte(key+"]"))
		if k < 0 {
			return fmt.Errorf("sample: encoding cluster %q: no empty chat_ids list in %s", d.slug, b)
		}
		prefix, suffix := b[:k+len(key)], b[k+len(key):]
		w.Write(prefix)
		count := 0
		for i, tt := range topics {
			if int(tt) != t {
				continue
			}
			if count > 0 {
				w.WriteByte(',')
			}
			w.WriteByte('"')
			id = g.appendChatID(id[:0], i)
			w.Write(id)
			w.WriteByte('"')
			count++
		}
		// A derived "count" field, if the encoder writes one, must match.
		suffix = bytes.Replace(suffix, []byte(`"count":0`), []byte(`"count":`+strconv.Itoa(count)), 1)
		if _, err := w.Write(suffix); err != nil {
			return err
		}
	}
	return w.Flush()
}
