package bench_test

import (
	"os"
	"testing"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
