package ingest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kura-go/kura/conversation"
)

// Check reads every conversation of path (a file or directory, as Open
// takes it) and reports how many are valid and what is wrong, in the report
// type of conversation.CheckFile, so that exports are checked beside Kura's
// checkpoint files (and, with opts.CollectRefs, cross-checked with them).
// Reading goes on past invalid conversations. The format read is returned;
// the error is non-nil only if ctx is done.
func Check(ctx context.Context, path string, format Format, opts conversation.CheckOptions) (*conversation.Report, Format, error) {
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = 20
	}
	if opts.MaxWarnings <= 0 {
		opts.MaxWarnings = 20
	}
	rep := &conversation.Report{Path: path, Kind: conversation.Conversations}
	problem := func(err error) {
		rep.NumProblems++
		if len(rep.Problems) < opts.MaxProblems {
			rep.Problems = append(rep.Problems, err)
		}
	}
	warn := func(err error) {
		rep.NumWarnings++
		if len(rep.Warnings) < opts.MaxWarnings {
			rep.Warnings = append(rep.Warnings, err)
		}
	}
	r, err := Open(path, Options{
		Format:       format,
		SkipInvalid:  opts.SkipInvalid,
		MaxLineBytes: opts.MaxLineBytes,
		OnSkip: func(err error) {
			if len(rep.Skips) < opts.MaxProblems {
				rep.Skips = append(rep.Skips, err)
			}
		},
		OnWarning: warn,
	})
	if err != nil {
		problem(err)
		return rep, format, nil
	}
	defer r.Close()
	rep.Path = r.Path()
	for {
		c, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				rep.Skipped = r.Stats().Skipped
				return rep, r.Format(), ctx.Err()
			}
			problem(err)
			if IsFatal(err) {
				break
			}
			continue
		}
		rep.Records++
		if opts.CollectRefs {
			rep.Collect(&c)
		}
	}
	rep.Skipped = r.Stats().Skipped
	if rep.Records == 0 && rep.Skipped == 0 && rep.NumProblems == 0 && rep.NumWarnings == 0 {
		warn(&Error{File: r.Path(), Msg: "no conversations"})
	}
	return rep, r.Format(), nil
}

// ConvertFile writes the conversations of in (any format Open reads) to
// out as a Kura checkpoint file: Parquet if out ends in ".parquet", else
// JSONL, exactly as Kura writes conversations.jsonl. out is written
// atomically: without opts.SkipInvalid the first invalid conversation stops
// the conversion and an existing out is left untouched; with it, invalid
// conversations are skipped (passed to opts.OnSkip) and counted. A fatal
// error always stops it.
func ConvertFile(ctx context.Context, in, out string, opts Options) (Stats, Format, error) {
	r, err := Open(in, opts)
	if err != nil {
		return Stats{}, "", err
	}
	defer r.Close()
	if same(r.Path(), out) {
		return Stats{}, r.Format(), fmt.Errorf("input and output are the same file: %s", out)
	}
	w, err := conversation.Create[conversation.Conversation](out)
	if err != nil {
		return Stats{}, r.Format(), err
	}
	for {
		c, err := r.Next(ctx)
		if err == io.EOF {
			break
		}
		if err == nil {
			err = w.Write(c)
		}
		if err != nil {
			w.Abort()
			return r.Stats(), r.Format(), err
		}
	}
	return r.Stats(), r.Format(), w.Close()
}

func same(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	if err1 != nil || err2 != nil {
		return false
	}
	if aa == bb {
		return true
	}
	fa, err1 := os.Stat(aa)
	fb, err2 := os.Stat(bb)
	return err1 == nil && err2 == nil && os.SameFile(fa, fb)
}
