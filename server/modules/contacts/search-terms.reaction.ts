import { defineReaction, type Reaction } from '../reactions/reaction';
import { refreshSearchTerms } from './search-terms';

/**
 * The search terms of the contacts these interactions are about, refreshed once per batch for all
 * of them. A registration fills its contact's name and phone and links the phone
 * (RegistrationsService.contactFor); refreshing the terms in its own transaction cost three
 * statements a registration inside the transaction that holds the event's row, where a batch of a
 * hundred registrations costs three in all here. The admin's search finds the registrant a moment
 * later (the batch runs some 50 ms after the commit).
 */
export function createSearchTermsReaction(types: string[]): Reaction {
  return defineReaction<true, Set<number>>({
    name: 'search-terms',
    handles: { types },
    prepare: () => Promise.resolve(true),
    createState: () => new Set(),
    write(_m, row, _prepared, contacts) {
      if (row.contactId !== null) contacts.add(row.contactId);
      return Promise.resolve();
    },
    async finish(m, contacts, batch) {
      await refreshSearchTerms(m, batch.survivors(contacts));
    },
  });
}
