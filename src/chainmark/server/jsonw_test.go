package main

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"
)

func TestClockMatchesRFC3339Nano(t *testing.T) {
	var c clock
	for range 2000 {
		before := time.Now()
		got := c.appendNow(nil)
		var parsed time.Time
		if err := json.Unmarshal(got, &parsed); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if want := appendTime(nil, parsed); !bytes.Equal(got, want) {
			t.Fatalf("%s != %s", got, want)
		}
		if parsed.Before(before.Truncate(time.Microsecond)) || parsed.After(time.Now()) {
			t.Fatalf("%s is not now", got)
		}
	}
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.1, 1e-7, 1.5e-7, 123456789, 1e21, 1e20, -2.5e-9, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		want, _ := json.Marshal(f)
		if got := appendFloat(nil, f, 64); !bytes.Equal(got, want) {
			t.Errorf("%v: %s, encoding/json %s", f, got, want)
		}
		f32 := float32(f)
		if math.IsInf(float64(f32), 0) {
			continue
		}
		want, _ = json.Marshal(f32)
		if got := appendFloat(nil, float64(f32), 32); !bytes.Equal(got, want) {
			t.Errorf("float32 %v: %s, encoding/json %s", f32, got, want)
		}
	}
	if got := string(appendFloat(nil, math.NaN(), 64)); got != "0" {
		t.Errorf("NaN: %s", got)
	}
}
