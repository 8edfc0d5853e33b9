// Sum 판매금액 per day with DuckDB (2 threads), as the csvsum benchmark's anchor.
import { DuckDBInstance } from '@duckdb/node-api';
const [file, out] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await db.connect();
const sql = `
COPY (
  SELECT strftime(coalesce(
           try_strptime(판매일시, '%Y-%m-%d %H:%M:%S'), try_strptime(판매일시, '%Y.%m.%d'),
           try_strptime(판매일시, '%Y/%m/%d %H:%M'), try_strptime(판매일시, '%Y%m%d')), '%Y-%m-%d') AS date,
         sum(CAST(replace(판매금액, ',', '') AS BIGINT)) AS 판매금액
  FROM read_csv('${file}', header = true, all_varchar = true)
  GROUP BY 1 ORDER BY 1
) TO '${out}' (HEADER, DELIMITER ',')`;
await con.run(sql);
