package loadtest

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-go/kura/vecfile"
)

// TestVectorDTypeRecorded runs the same small load test with the vectors
// stored as float32 and as float16: the results JSON records the dtype in
// the config and in every scale's storage, the embeddings file is numpy's
// '<f2' with float16, its data and the embedding bytes exactly halve, the
// totals fall by the bytes saved, and the clusters stay as good (the
// test's K-means on 256-d hash vectors: the ARIs within 0.02 of each other).
func TestVectorDTypeRecorded(t *testing.T) {
	type run struct {
		res *Results
		doc map[string]any
	}
	runs := map[string]run{}
	for _, dt := range []string{"float32", "float16"} {
		cfg := testConfig(t)
		cfg.VectorDType = dt
		cfg.KeepArtifacts = t.TempDir()
		res, doc, err := runAndWrite(t, context.Background(), &Runner{Toolkit: testToolkit()}, cfg)
		if err != nil {
			t.Fatalf("%s: %v", dt, err)
		}
		var d map[string]any
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		if got := d["config"].(map[string]any)["vector_dtype"]; got != dt {
			t.Errorf("%s: config.vector_dtype = %v", dt, got)
		}
		for i, s := range d["scales"].([]any) {
			if got := s.(map[string]any)["storage"].(map[string]any)["vector_dtype"]; got != dt {
				t.Errorf("%s: scales[%d].storage.vector_dtype = %v", dt, i, got)
			}
		}
		for _, s := range res.Scales {
			p := filepath.Join(s.ArtifactsDir, "results", "embeddings.npy")
			m, err := vecfile.Open(p, 0)
			if err != nil {
				t.Fatal(err)
			}
			if m.DType.String() != dt || m.Rows != s.Conversations || m.Cols != s.Dims {
				t.Errorf("%s: %s holds %d × %d %v", dt, p, m.Rows, m.Cols, m.DType)
			}
			if want := int64(128 + s.Conversations*s.Dims*m.DType.Size()); s.Storage.VectorsNPYBytes != want {
				t.Errorf("%s: vectors_npy_bytes %d, want %d", dt, s.Storage.VectorsNPYBytes, want)
			}
			m.Close()
		}
		runs[dt] = run{res, d}
	}
	f32, f16 := runs["float32"].res, runs["float16"].res
	if len(f32.Scales) != 3 || len(f16.Scales) != 3 {
		t.Fatalf("%d and %d scales", len(f32.Scales), len(f16.Scales))
	}
	for i := range f32.Scales {
		a, b := &f32.Scales[i], &f16.Scales[i]
		sa, sb := a.Storage, b.Storage
		saved := (sa.VectorsNPYBytes - 128) / 2
		for _, c := range []struct {
			what      string
			got, want int64
		}{
			{"embedding bytes", sb.EmbeddingBytes, sa.EmbeddingBytes / 2},
			{".npy data bytes", sb.VectorsNPYBytes - 128, (sa.VectorsNPYBytes - 128) / 2},
			{"total bytes", sb.TotalBytes, sa.TotalBytes - saved},
			{"records (unchanged)", sb.MetadataBytes, sa.MetadataBytes},
		} {
			if c.got != c.want || c.want <= 0 {
				t.Errorf("scale %d: %s %d with float16, want %d", a.Conversations, c.what, c.got, c.want)
			}
		}
		if a.Quality != nil && b.Quality != nil {
			t.Logf("scale %d: ARI %.3f with float32, %.3f with float16", a.Conversations, a.Quality.ARI, b.Quality.ARI)
		}
		if a.Quality == nil || b.Quality == nil || math.Abs(a.Quality.ARI-b.Quality.ARI) > 0.02 {
			t.Errorf("scale %d: ARI %v with float32, %v with float16", a.Conversations, a.Quality, b.Quality)
		}
	}
}

func TestVectorDTypeConfig(t *testing.T) {
	for _, c := range []struct {
		name     string
		dtype    string
		pipeline string
		want     string
		wantErr  string
	}{
		{"default", "float32", "", "float32", ""},
		{"half", "float16", "", "float16", ""},
		{"numpy name", "<f2", "", "float16", ""},
		{"not recorded (older files)", "", "", "float32", ""},
		{"float64", "float64", "", "", `unknown vector dtype "float64": want float32 or float16`},
		{"typo", "fp16", "", "", `unknown vector dtype "fp16"`},
		{"full pipeline float32", "float32", PipelineFull, "float32", ""},
		{"full pipeline float16", "float16", PipelineFull, "float16", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.VectorDType, cfg.Pipeline = c.dtype, c.pipeline
			err := cfg.Validate()
			switch {
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("error %v, want %q", err, c.wantErr)
			case c.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case c.wantErr == "" && cfg.VectorDType != c.want:
				t.Errorf("vector dtype %q, want %q", cfg.VectorDType, c.want)
			}
		})
	}
}

// TestFullPipelineFloat16: --pipeline full passes the dtype to kura run's
// pipeline; each scale records float16 storage, half the embedding bytes.
func TestFullPipelineFloat16(t *testing.T) {
	cfg := fullConfig(t, nil)
	cfg.VectorDType = "float16"
	res, _, err := runAndWrite(t, context.Background(), &Runner{Toolkit: testToolkit()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Scales) != 2 {
		t.Fatalf("%d scales", len(res.Scales))
	}
	for _, s := range res.Scales {
		st := s.Storage
		if st.VectorDType != "float16" || st.EmbeddingBytes != int64(s.Conversations*s.Dims*2) || st.VectorsNPYBytes != 128+st.EmbeddingBytes {
			t.Errorf("scale %d (%d × %d): storage %+v", s.Scale, s.Conversations, s.Dims, st)
		}
	}
}
