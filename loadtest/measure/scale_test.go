package measure

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	mk := func(load, embed, cluster float64, peak int64) *Scale {
		s := &Scale{Conversations: 600, Stages: Stages{
			{Name: Load, WallS: load}, {Name: Embed, WallS: embed, PeakRSSBytes: peak}, {Name: Cluster, WallS: cluster}}}
		s.SumStages()
		return s
	}
	m := Median([]*Scale{mk(1, 10, 100, 30), mk(2, 30, 50, 10), mk(3, 20, 70, 20)})
	if m.Stages.Of(Load).WallS != 2 || m.Stages.Of(Embed).WallS != 20 || m.Stages.Of(Cluster).WallS != 70 || m.PeakRSSBytes != 20 {
		t.Errorf("median stages %+v peak %d", m.Stages, m.PeakRSSBytes)
	}
	if m.TotalWallS != 92 || m.ThroughputPerMin != 600/92.0*60 || !reflect.DeepEqual(m.RepeatWallS, []float64{111, 82, 93}) {
		t.Errorf("total %v throughput %v repeats %v", m.TotalWallS, m.ThroughputPerMin, m.RepeatWallS)
	}
	// Each stage keeps its spread, the scale its total time's and peak's.
	want := map[string]StageSpread{
		Load:    {WallMinS: 1, WallMaxS: 3},
		Embed:   {WallMinS: 10, WallMaxS: 30, PeakRSSMinBytes: 10, PeakRSSMaxBytes: 30},
		Cluster: {WallMinS: 50, WallMaxS: 100},
	}
	for name, w := range want {
		if sp := m.Stages.Of(name).Spread; sp == nil || *sp != w {
			t.Errorf("%s spread %+v, want %+v", name, sp, w)
		}
	}
	if lo, hi, ok := m.WallRange(); !ok || lo != 82 || hi != 111 {
		t.Errorf("wall range %v-%v %v", lo, hi, ok)
	}
	if lo, hi, ok := m.PeakRange(); !ok || lo != 10 || hi != 30 {
		t.Errorf("peak range %v-%v %v", lo, hi, ok)
	}
	for _, name := range []string{"total_time_min", "embed_time_max", "peak_memory_max"} {
		if _, ok := Lookup(name).Value(mk(1, 2, 3, 4)); ok {
			t.Errorf("%s of a single run: want not measured", name)
		}
	}
	if v, _ := Lookup("embed_time_max").Value(m); v != 30 {
		t.Errorf("embed_time_max %v, want 30", v)
	}
}

func TestStagesJSON(t *testing.T) {
	in := Stages{{Name: Load, WallS: 1}, {Name: Embed, CPUS: 2}, {Name: Cluster, PeakRSSBytes: 3}, {Name: Write, HeapInuseBytes: 4}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"load":{"wall_s":1,"cpu_s":0,"peak_rss_bytes":0,"heap_inuse_bytes":0},"embed":{"wall_s":0,"cpu_s":2,"peak_rss_bytes":0,"heap_inuse_bytes":0},` +
		`"cluster":{"wall_s":0,"cpu_s":0,"peak_rss_bytes":3,"heap_inuse_bytes":0},"write":{"wall_s":0,"cpu_s":0,"peak_rss_bytes":0,"heap_inuse_bytes":4}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var out Stages
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip: %+v", out)
	}
	if err := json.Unmarshal([]byte(`[1]`), &out); err == nil {
		t.Error("an array: want an error")
	}
}

// Every metric with a JSON path reads the value found at that path of the
// scale's JSON, and its CSV column and name are unique.
func TestMetricsMatchJSON(t *testing.T) {
	s := Scale{Scale: 7, Conversations: 11, Generated: 13, Dims: 17, BaselineRSSBytes: 19, PeakRSSBytes: 23, HeapInuseBytes: 29,
		TotalWallS: 31, TotalCPUS: 37, ThroughputPerMin: 41, Clusters: 43, Noise: 47,
		Storage: Storage{EmbeddingBytes: 53, MetadataBytes: 59, ResultsJSONLBytes: 61, ResultsParquetBytes: 67, VectorsNPYBytes: 71, TotalBytes: 73},
		API:     APIUsage{Requests: 79, Retries: 83, RateLimited: 89, Errors: 97, Tokens: 101, CostUSD: 103, EstimatedCostUSD: 107},
		Quality: &Quality{ARI: 0.109, NMI: 0.113, Spillover: 0.127}}
	v := 131.0
	for _, st := range Pipeline {
		s.Stages = append(s.Stages, Stage{Name: st.Name, WallS: v, CPUS: v + 1, PeakRSSBytes: int64(v + 2), HeapInuseBytes: int64(v + 3),
			Spread: &StageSpread{WallMinS: v - 1, WallMaxS: v + 4}})
		v += 10
	}
	b, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	names, cols := map[string]bool{}, map[string]bool{}
	for i := range Metrics {
		m := &Metrics[i]
		if names[m.Name] || (m.CSV != "" && cols[m.CSV]) {
			t.Errorf("%s: name or CSV column %q declared twice", m.Name, m.CSV)
		}
		names[m.Name], cols[m.CSV] = true, true
		if m.JSON == "" {
			continue
		}
		var cur any = doc
		for _, k := range strings.Split(m.JSON, ".") {
			cur = cur.(map[string]any)[k]
		}
		if got, ok := cur.(float64); !ok || got != m.Get(&s) {
			t.Errorf("%s: JSON %s is %v, Get is %v", m.Name, m.JSON, cur, m.Get(&s))
		}
	}
	if _, ok := Lookup("ari").Value(&Scale{}); ok {
		t.Error("ari without a ground truth: want not measured")
	}
}
