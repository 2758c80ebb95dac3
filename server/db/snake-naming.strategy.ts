import { DefaultNamingStrategy, NamingStrategyInterface } from 'typeorm';

/** camelCase properties become snake_case columns, the same on SQLite and MySQL. */
export class SnakeNamingStrategy extends DefaultNamingStrategy implements NamingStrategyInterface {
  override columnName(propertyName: string, customName: string | undefined, prefixes: string[]): string {
    const name = customName ?? toSnakeCase(propertyName);
    return prefixes.length > 0 ? `${prefixes.map(toSnakeCase).join('_')}_${name}` : name;
  }
}

function toSnakeCase(text: string): string {
  return text.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}
