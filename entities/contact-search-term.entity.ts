import { Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * The admin list's text search, one row per piece of a contact's searchable text: the pieces of one to three
 * characters of its name, the operator's remark, its phone numbers and the tail of
 * its openids (modules/contacts/search-terms.ts). The primary key (term, contact_id) serves a
 * search as one index range in contact id order, so a keyset page reads 20 entries, not a LIKE
 * over every name. Written only by refreshSearchTerms, whenever a contact's searchable text changes.
 */
@Entity('contact_search_terms')
@Index('IDX_contact_search_terms_contact', ['contactId'])
export class ContactSearchTerm {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  term: string;

  @PrimaryColumn({ type: 'int' })
  contactId: number;
}
