import type { DataSource } from 'typeorm';

export interface SandboxFollower {
  contactId: number;
  openid: string;
  name: string | null;
}

export interface SearchFollowersParams {
  /** Part of an openid or of a name; empty: the newest followers. */
  q: string;
  limit: number;
}

/**
 * The followers the sandbox panel can play: every contact with an Official Account openid in the
 * database, not only those played in this page session (which a reload or a restart forgets).
 */
export class SandboxFollowersService {
  constructor(private readonly deps: { dataSource: DataSource }) {}

  async searchFollowers(params: SearchFollowersParams): Promise<SandboxFollower[]> {
    const query = this.deps.dataSource.manager
      .createQueryBuilder()
      .select('i.value', 'openid')
      .addSelect('c.id', 'contactId')
      .addSelect('c.name', 'name')
      .from('contact_identities', 'i')
      .innerJoin('contacts', 'c', 'c.id = i.contact_id')
      .where("i.kind = 'oa_openid'")
      .orderBy('c.id', 'DESC')
      .limit(params.limit);
    const q = params.q.trim();
    // '!' escapes LIKE wildcards the same way on SQLite and MySQL (MySQL's default is '\').
    if (q)
      query.andWhere("(i.value LIKE :like ESCAPE '!' OR c.name LIKE :like ESCAPE '!')", {
        like: `%${q.replace(/[!%_]/g, (c) => `!${c}`)}%`,
      });
    const rows = await query.getRawMany<{ openid: string; contactId: number | string; name: string | null }>();
    return rows.map((row) => ({ contactId: Number(row.contactId), openid: row.openid, name: row.name }));
  }
}
