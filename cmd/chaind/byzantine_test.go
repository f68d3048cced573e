package main

import (
	"reflect"
	"testing"
)

func TestParseByzantine(t *testing.T) {
	got, err := parseByzantine("0=equivocate+censor,2=double-vote", 4)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int]string{0: "equivocate+censor", 2: "double-vote"}; !reflect.DeepEqual(behaviourNames(got), want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"4=censor", "x=censor", "0=lie", "censor", "0="} {
		if _, err := parseByzantine(bad, 4); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
