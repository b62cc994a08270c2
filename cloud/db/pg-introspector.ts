// Kysely's PostgreSQL introspector reads every schema of the database and calls functions on each
// schema's name; a schema dropped meanwhile by someone else makes it fail ("schema … does not
// exist"), and the Migrator uses it to find its own tables at every start. The cloud's tables all
// live in the first schema of the search_path, so this introspector looks there and nowhere else.
import { PostgresDialect, sql, type DatabaseIntrospector, type DatabaseMetadata, type DatabaseMetadataOptions, type Kysely, type SchemaMetadata, type TableMetadata } from 'kysely';

const KYSELY_TABLES = new Set(['kysely_migration', 'kysely_migration_lock']);

interface ColumnRow {
  table_name: string;
  kind: string;
  schema: string;
  column_name: string;
  data_type: string;
  nullable: boolean;
  has_default: boolean;
  auto: boolean;
}

export class CurrentSchemaIntrospector implements DatabaseIntrospector {
  constructor(private readonly db: Kysely<unknown>) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace`.execute(this.db);
    return rows.map((r) => ({ name: r.name }));
  }

  async getTables(options: DatabaseMetadataOptions = { withInternalKyselyTables: false }): Promise<TableMetadata[]> {
    const { rows } = await sql<ColumnRow>`
      select c.relname as table_name, c.relkind as kind, n.nspname as schema, a.attname as column_name,
             format_type(a.atttypid, a.atttypmod) as data_type, not a.attnotnull as nullable, a.atthasdef as has_default,
             coalesce(pg_get_expr(d.adbin, d.adrelid) like 'nextval(%', false) as auto
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      left join pg_catalog.pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
      where n.nspname = current_schema() and c.relkind in ('r', 'v', 'p', 'm')
      order by c.relname, a.attnum`.execute(this.db);
    const tables = new Map<string, TableMetadata & { columns: TableMetadata['columns'][number][] }>();
    for (const r of rows) {
      if (!options.withInternalKyselyTables && KYSELY_TABLES.has(r.table_name)) continue;
      let table = tables.get(r.table_name);
      if (!table) {
        table = { name: r.table_name, schema: r.schema, isView: r.kind === 'v' || r.kind === 'm', columns: [] };
        tables.set(r.table_name, table);
      }
      table.columns.push({ name: r.column_name, dataType: r.data_type, isNullable: r.nullable, hasDefaultValue: r.has_default, isAutoIncrementing: r.auto });
    }
    return [...tables.values()];
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}

/** Kysely's PostgresDialect with the introspector above. */
export class CurrentSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db);
  }
}
