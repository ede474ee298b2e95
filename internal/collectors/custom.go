package collectors

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/metrics"
)

// Failure reasons of a custom check, beyond the connection reasons of the
// database check.
const (
	ReasonQueryFalse      = "query_false"            // the boolean result is false or NULL
	ReasonValueOutOfRange = "value_out_of_range"     // the number is outside [min, max]
	ReasonRowsOutOfRange  = "row_count_out_of_range" // the row count is outside [min_rows, max_rows]
	ReasonSQLError        = "sql_error"              // the server refused the query
	ReasonInvalidResult   = "invalid_result"         // not the shape the check expects
)

// maxCountedRows bounds how many rows a row-count check reads: past it, the
// count is "at least" that many.
const maxCountedRows = 100_000

// CustomOptions are a custom check's query and what counts as passing. With
// no bound set, the query returns one boolean that must be true; with Min
// or Max, one number that must lie within them; with MinRows or MaxRows, any
// rows whose count must lie within them.
type CustomOptions struct {
	SQL              string
	Min, Max         *float64
	MinRows, MaxRows *int
}

// Mode says how a result is judged: "boolean", "value" or "rows".
func (o CustomOptions) Mode() string {
	switch {
	case o.Min != nil || o.Max != nil:
		return "value"
	case o.MinRows != nil || o.MaxRows != nil:
		return "rows"
	}
	return "boolean"
}

// Validate reports what is wrong with the options: the SQL (see
// CheckQuery), bounds of both kinds, or bounds the wrong way round.
func (o CustomOptions) Validate() error {
	if err := CheckQuery(o.SQL); err != nil {
		return fmt.Errorf("sql: %w", err)
	}
	switch {
	case (o.Min != nil || o.Max != nil) && (o.MinRows != nil || o.MaxRows != nil):
		return errors.New("set min/max (a value) or min_rows/max_rows (a row count), not both")
	case o.Min != nil && o.Max != nil && *o.Min > *o.Max:
		return fmt.Errorf("min %v is above max %v", *o.Min, *o.Max)
	case o.MinRows != nil && o.MaxRows != nil && *o.MinRows > *o.MaxRows:
		return fmt.Errorf("min_rows %d is above max_rows %d", *o.MinRows, *o.MaxRows)
	case o.MinRows != nil && *o.MinRows < 0, o.MaxRows != nil && *o.MaxRows < 0:
		return errors.New("row counts are not negative")
	}
	return nil
}

// Custom is a check defined by the operator: one query, run on a fresh
// connection in a read-only transaction whose statement_timeout is the
// check's own deadline. Its result is judged by CustomOptions; the data it
// returns is never logged or shown, only the value, the row count and the
// verdict.
type Custom struct {
	pool *pgxpool.Pool
	opts CustomOptions
}

// NewCustom returns the check; it validates the options but does not
// connect.
func NewCustom(pool *pgxpool.Pool, opts CustomOptions) (*Custom, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Custom{pool: pool, opts: opts}, nil
}

// CustomDetails are what a custom check's last run found.
type CustomDetails struct {
	Mode string `json:"mode"`
	// Value is the number or boolean (1 or 0) the query returned, or the
	// row count; nil when the query did not run to the end.
	Value      *float64 `json:"value,omitempty"`
	Rows       *int     `json:"rows,omitempty"`
	SQLSeconds float64  `json:"sql_seconds,omitempty"`
}

// Run performs one check under ctx's deadline.
func (c *Custom) Run(ctx context.Context) health.Result {
	trace.SpanFromContext(ctx).SetAttributes(attribute.String("dbhealth.check.sql", c.opts.SQL))
	details := &CustomDetails{Mode: c.opts.Mode()}
	var verdict health.Result
	err := WithFreshConn(ctx, c.pool, func(conn *pgx.Conn, _ time.Time) error {
		tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		if deadline, ok := ctx.Deadline(); ok {
			ms := max(1, time.Until(deadline).Milliseconds())
			if _, err := tx.Exec(ctx, "SELECT set_config('statement_timeout', $1, true)", strconv.FormatInt(ms, 10)); err != nil {
				return err
			}
		}
		start := time.Now()
		// The extended protocol runs one statement only, whatever the text.
		rows, err := tx.Query(ctx, c.opts.SQL, pgx.QueryExecModeExec)
		if err != nil {
			return err
		}
		verdict = c.judge(rows, details)
		details.SQLSeconds = time.Since(start).Seconds()
		return rows.Err()
	})
	if err != nil {
		res := Failure(ctx, err)
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr) && pgErr.Code == "57014": // query_canceled: the statement_timeout
			res.Reason = ReasonTimeout
		case errors.As(err, &pgErr) && res.Reason == ReasonOther:
			res.Reason = ReasonSQLError
		}
		res.Details = details
		return res
	}
	verdict.Details = details
	return verdict
}

// judge reads the result and says whether it passes.
func (c *Custom) judge(rows pgx.Rows, d *CustomDetails) health.Result {
	defer rows.Close()
	if d.Mode == "rows" {
		n := 0
		for rows.Next() && n < maxCountedRows {
			n++
		}
		rows.Close()
		if rows.Err() != nil {
			return health.Result{}
		}
		v := float64(n)
		d.Rows, d.Value = &n, &v
		if (c.opts.MinRows != nil && n < *c.opts.MinRows) || (c.opts.MaxRows != nil && n > *c.opts.MaxRows) {
			return health.Result{Err: fmt.Errorf("%d rows, want %s", n, bounds(intPtr(c.opts.MinRows), intPtr(c.opts.MaxRows))), Reason: ReasonRowsOutOfRange}
		}
		return health.Result{}
	}
	if !rows.Next() {
		if rows.Err() != nil {
			return health.Result{}
		}
		return invalid("the query returned no row")
	}
	values, err := rows.Values()
	if err != nil {
		return health.Result{Err: err, Reason: ReasonInvalidResult}
	}
	if rows.Next() {
		return invalid("the query returned more than one row")
	}
	if len(values) != 1 {
		return invalid(fmt.Sprintf("the query returned %d columns, want 1", len(values)))
	}
	if d.Mode == "boolean" {
		b, ok := values[0].(bool)
		if values[0] != nil && !ok {
			return invalid(fmt.Sprintf("the query returned a %T, want a boolean (or set min/max for a number)", values[0]))
		}
		v := 0.0
		if b {
			v = 1
		}
		d.Value = &v
		if !b {
			return health.Result{Err: errors.New("the query returned " + map[bool]string{true: "NULL", false: "false"}[values[0] == nil]), Reason: ReasonQueryFalse}
		}
		return health.Result{}
	}
	v, ok := number(values[0])
	if !ok {
		return invalid(fmt.Sprintf("the query returned a %T, want a number", values[0]))
	}
	d.Value = &v
	if (c.opts.Min != nil && v < *c.opts.Min) || (c.opts.Max != nil && v > *c.opts.Max) {
		return health.Result{Err: fmt.Errorf("value %v, want %s", v, bounds(floatPtr(c.opts.Min), floatPtr(c.opts.Max))), Reason: ReasonValueOutOfRange}
	}
	return health.Result{}
}

func invalid(msg string) health.Result {
	return health.Result{Err: errors.New(msg), Reason: ReasonInvalidResult}
}

// number converts what pgx decodes a numeric column to.
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float32:
		return float64(n), true
	case float64:
		return n, true
	case pgtype.Numeric:
		f, err := n.Float64Value()
		return f.Float64, err == nil && f.Valid && !math.IsNaN(f.Float64)
	}
	return 0, false
}

func intPtr(p *int) *float64 {
	if p == nil {
		return nil
	}
	f := float64(*p)
	return &f
}

func floatPtr(p *float64) *float64 { return p }

// bounds says "between 1 and 5", "at least 1" or "at most 5".
func bounds(lo, hi *float64) string {
	switch {
	case lo != nil && hi != nil:
		return fmt.Sprintf("between %v and %v", *lo, *hi)
	case lo != nil:
		return fmt.Sprintf("at least %v", *lo)
	default:
		return fmt.Sprintf("at most %v", *hi)
	}
}

var descValue = prometheus.NewDesc("dbhealth_check_value",
	"The number a custom check's query returned (a boolean as 1 or 0, or its row count), at its last run that got a result.",
	[]string{"target", "check"}, nil)

var _ metrics.CheckCollector = (*Custom)(nil)

// CollectMetrics exports the value of the last run that got one.
func (*Custom) CollectMetrics(target string, check health.CheckSnapshot, ch chan<- prometheus.Metric) {
	if check.Last == nil {
		return
	}
	if d, ok := check.Last.Details.(*CustomDetails); ok && d.Value != nil {
		ch <- metrics.Gauge(descValue, *d.Value, target, check.Name)
	}
}

// Reasons are the failure reasons a custom check can report.
func (*Custom) Reasons() []string {
	return append([]string{ReasonQueryFalse, ReasonValueOutOfRange, ReasonRowsOutOfRange, ReasonSQLError, ReasonInvalidResult}, ConnectionReasons()...)
}
