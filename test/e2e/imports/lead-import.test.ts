import request from 'supertest';
import { AuditLog } from '../../../entities/audit-log.entity';
import { Contact } from '../../../entities/contact.entity';
import { ContactIdentity } from '../../../entities/contact-identity.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { createLogger } from '../../../server/adapters/logger';
import { IMPORT_SEARCH_TERMS, ImportsService, type ImportReport } from '../../../server/modules/imports/imports.service';
import { Task } from '../../../entities/task.entity';
import { describeEachDatabase } from '../../support/database';
import { encodeGbk } from '../../support/gbk';
import { startTestStack, type TestStack } from '../../support/test-stack';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const EVENT_TAG = '展会:2026上海工业展';

describeEachDatabase('lead imports (导入线索)', (db) => {
  let stack: TestStack;
  let token: string;

  beforeEach(async () => {
    // A small upload limit, so the too-large case needs no 32 MiB body.
    stack = await startTestStack(db(), { IMPORT_MAX_BYTES: '4096' });
    const created = await stack.services.operators.createOperator({
      username: 'importer',
      password: 'importer-password-1',
      role: 'operator',
      wecomUserId: null,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await stack.services.operators.login({ username: 'importer', password: 'importer-password-1', ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    token = login.token;
  });
  afterEach(async () => {
    await stack.close();
  });

  const upload = (body: Buffer, query = `tag=${encodeURIComponent(EVENT_TAG)}&eventId=7&fileName=leads.csv`) =>
    request(stack.baseUrl)
      .post(`/api/admin/imports?${query}`)
      .set('authorization', `Bearer ${token}`)
      .set('content-type', 'text/csv')
      .send(body);
  const contactByPhone = async (e164: string) => {
    const identity = await db().dataSource.manager.findOneBy(ContactIdentity, { kind: 'phone', appId: '', value: e164 });
    return identity ? db().dataSource.manager.findOneByOrFail(Contact, { id: identity.contactId }) : null;
  };
  const contactCount = () => db().dataSource.manager.count(Contact);
  const tagsOf = async (contactId: number): Promise<string[]> => {
    const rows: { name: string }[] = await db().dataSource.manager.query(
      'SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = ? ORDER BY t.name',
      [contactId],
    );
    return rows.map((r) => r.name);
  };

  it('imports a GBK file as Excel saves it: Chinese headers, phones cleaned to E.164, a bad row refused with its row and reason', async () => {
    const csv = encodeGbk(
      [
        '姓名,手机号,公司,职位,邮箱',
        '张三,138 1234 5678,上海机床厂,采购经理,zhang@example.com',
        '李四,+86-139-0000-1111,苏州精工,总经理,',
        '王五,12345,无锡电气,工程师,',
        '赵六,1.38E+10,杭州设备,主管,',
        '钱七,008615000002222,南京自动化,销售,not-an-email',
      ].join('\r\n'),
    );
    const res = await upload(csv);
    expect(res.status).toBe(201);
    const report = res.body as ImportReport;
    expect(report).toMatchObject({ status: 'done', encoding: 'gb18030', total: 5, created: 2, updated: 0, imported: 2, duplicates: 0 });
    expect(report.refusedCount).toBe(3);
    expect(report.refused).toEqual([
      { row: 4, code: 'phone_invalid', message: expect.stringContaining('手机号格式不正确') as string },
      { row: 5, code: 'phone_scientific', message: expect.stringContaining('科学计数法') as string },
      { row: 6, code: 'email_invalid', message: '邮箱格式不正确' },
    ]);
    const zhang = await contactByPhone('+8613812345678');
    expect(zhang).toMatchObject({
      name: '张三',
      company: '上海机床厂',
      title: '采购经理',
      email: 'zhang@example.com',
      phone: '13812345678',
    });
    expect(await contactByPhone('+8613900001111')).toMatchObject({ name: '李四', company: '苏州精工', email: null });
    expect(await tagsOf(zhang?.id ?? 0)).toEqual(['2026上海工业展']);
    const interactions = await db().dataSource.manager.findBy(Interaction, {
      type: 'imported',
      refType: 'import',
      refId: String(report.id),
    });
    expect(interactions).toHaveLength(2);
    expect(interactions[0]).toMatchObject({ direction: 'out', channel: 'admin' });
    expect(interactions[0].detail).toMatchObject({ importId: report.id, eventId: 7, tags: [EVENT_TAG] });
    const audit = await db().dataSource.manager.findBy(AuditLog, { action: 'import.apply' });
    expect(audit).toHaveLength(1);
    expect(audit[0].detail).toMatchObject({ created: 2, refused: 3 });

    // The refused rows, for fixing in Excel: UTF-8 with a BOM, the reason, then the row as it was.
    const refused = await request(stack.baseUrl)
      .get(`/api/admin/imports/${report.id}/refused.csv`)
      .set('authorization', `Bearer ${token}`)
      .buffer(true)
      .parse((r, done) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(refused.status).toBe(200);
    const bytes = refused.body as Buffer;
    expect(bytes.subarray(0, 3)).toEqual(BOM);
    const lines = bytes.subarray(3).toString('utf8').trimEnd().split('\r\n');
    expect(lines[0]).toBe('行号,原因代码,原因,姓名,手机号,公司,职位,邮箱');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^4,phone_invalid,.*,王五,12345,无锡电气,工程师,$/);

    const again = await request(stack.baseUrl).get(`/api/admin/imports/${report.id}`).set('authorization', `Bearer ${token}`);
    expect(again.body).toMatchObject({ id: report.id, status: 'done', created: 2, refusedCount: 3, eventId: 7, tags: [EVENT_TAG] });
  });

  it('makes the imported contacts searchable by name and phone once the queued search-terms task has run', async () => {
    const search = async (q: string) => {
      const res = await request(stack.baseUrl)
        .get(`/api/admin/contacts?q=${encodeURIComponent(q)}`)
        .set('authorization', `Bearer ${token}`);
      return (res.body as { items: { name: string | null }[] }).items.map((item) => item.name);
    };
    await upload(Buffer.from('手机,姓名\n13312345678,欧阳娜娜\n13312340000,司马光\n'));
    expect(await search('欧阳')).toEqual([]);
    await stack.services.queue.runOnce({ handlers: stack.services.imports.handlers() });
    expect(await search('欧阳')).toEqual(['欧阳娜娜']);
    expect(await search('1331234')).toHaveLength(2);
    // Run again from the start (a worker that died before its cursor moved): nothing changes.
    const [before]: { n: number | string }[] = await db().dataSource.manager.query('SELECT COUNT(*) AS n FROM contact_search_terms');
    const task = await db().dataSource.manager.findOneByOrFail(Task, { kind: IMPORT_SEARCH_TERMS });
    await stack.services.imports.handlers()[IMPORT_SEARCH_TERMS]([{ ...task, payload: { ...task.payload, after: 0 } }]);
    const [after]: { n: number | string }[] = await db().dataSource.manager.query('SELECT COUNT(*) AS n FROM contact_search_terms');
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('reads a UTF-8 file with a BOM and English headers, and reports duplicates within the file', async () => {
    const csv = Buffer.concat([
      BOM,
      Buffer.from(
        [
          'Phone,Name,Company,Title,Email',
          '13800000001,Alice,ACME,CTO,',
          '138-0000-0001,Alice again,ACME,,',
          '13800000002,"Bob, Jr.",Initech,,',
        ].join('\n'),
      ),
    ]);
    const res = await upload(csv);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ encoding: 'utf-8-bom', total: 3, created: 2, duplicates: 1, refusedCount: 0 });
    expect((res.body as ImportReport).duplicateRows).toEqual([{ row: 3, firstRow: 2 }]);
    expect(await contactByPhone('+8613800000001')).toMatchObject({ name: 'Alice' });
    expect(await contactByPhone('+8613800000002')).toMatchObject({ name: 'Bob, Jr.' });
  });

  it('reads UTF-8 without a BOM whose first rows are ASCII', async () => {
    const rows = ['phone,name', ...Array.from({ length: 50 }, (_, i) => `139${String(i).padStart(8, '0')},Lead ${i}`), '13911112222,陈晨'];
    const res = await upload(Buffer.from(rows.join('\n')));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ encoding: 'utf-8', created: 51 });
    expect(await contactByPhone('+8613911112222')).toMatchObject({ name: '陈晨' });
  });

  it('fills an existing contact (found by its phone identity) without overwriting, unless overwrite is chosen', async () => {
    await upload(Buffer.from('手机,姓名,公司\n13700000001,老王,\n'));
    const before = await contactByPhone('+8613700000001');
    const contacts = await contactCount();
    const res = await upload(Buffer.from('手机,姓名,公司,职位\n13700000001,王大锤,大锤科技,CEO\n'));
    expect(res.body).toMatchObject({ created: 0, updated: 1, imported: 1 });
    expect(await contactCount()).toBe(contacts);
    expect(await contactByPhone('+8613700000001')).toMatchObject({ id: before?.id, name: '老王', company: '大锤科技', title: 'CEO' });

    const overwrite = await upload(Buffer.from('手机,姓名\n13700000001,王大锤\n'), 'overwrite=true');
    expect(overwrite.body).toMatchObject({ updated: 1 });
    expect(await contactByPhone('+8613700000001')).toMatchObject({ name: '王大锤', company: '大锤科技' });
  });

  it('matches a follower by the unionid column, adds the phone to them, and refuses a row whose phone and unionid are two people', async () => {
    const s = stack.services;
    const follower = await s.transactor.run((m) => s.contacts.resolveContact(m, { kind: 'unionid', appId: '', value: 'union-1' }));
    const other = await s.transactor.run((m) => s.contacts.resolveContact(m, { kind: 'phone', appId: '', value: '+8613600000009' }));
    const res = await upload(
      Buffer.from('手机,姓名,unionid\n13600000001,周一,union-1\n13600000009,周九,union-1-other\n13600000009,周九,union-1\n'),
    );
    expect(res.status).toBe(201);
    // Row 4 repeats row 3's phone: a duplicate; row 3 matches `other` by phone, and its unionid is new.
    expect(res.body).toMatchObject({ created: 0, updated: 2, duplicates: 1 });
    expect(await contactByPhone('+8613600000001')).toMatchObject({ id: follower.contactId, name: '周一' });
    const union = await db().dataSource.manager.findOneBy(ContactIdentity, { kind: 'unionid', value: 'union-1-other' });
    expect(union?.contactId).toBe(other.contactId);

    const conflict = await upload(Buffer.from('手机,unionid\n13600000009,union-1\n'));
    expect(conflict.body).toMatchObject({ created: 0, updated: 0, refusedCount: 1 });
    expect((conflict.body as ImportReport).refused[0]).toMatchObject({ row: 2, code: 'identity_conflict' });
  });

  it('never half-imports: a failure in the middle of the apply leaves contacts as they were; applying again imports once', async () => {
    const s = stack.services;
    let failing = true;
    // The same services, with the interactions' adapter failing after the contacts and tags were written.
    const imports = new ImportsService({
      dataSource: db().dataSource,
      transactor: s.transactor,
      clock: stack.clock,
      logger: createLogger('silent'),
      audit: s.audit,
      contacts: s.contacts,
      contactTags: s.contactTags,
      interactions: {
        recordInteractions: async (m, drafts) => {
          if (failing) throw new Error('injected failure');
          return s.interactions.recordInteractions(m, drafts);
        },
      },
      identityApps: { wecomCorpId: null, oaAppId: null },
      queue: s.queue,
    });
    await upload(Buffer.from('phone,name\n13500000001,Old\n'));
    const contactsBefore = await db().dataSource.manager.find(Contact, { order: { id: 'ASC' } });
    const identitiesBefore = await db().dataSource.manager.count(ContactIdentity);
    const tagsBefore: unknown = await db().dataSource.manager.query('SELECT COUNT(*) AS n FROM contact_tags');
    const { Readable } = await import('node:stream');
    const params = {
      input: Readable.from([Buffer.from('phone,name,company\n13500000001,Old,NewCo\n13500000002,New One,\n13500000003,New Two,\n')]),
      fileName: 'leads.csv',
      tags: [{ group: '展会', name: '2026上海工业展' }],
      eventId: null,
      overwrite: false,
      actor: { operatorId: null, ip: null },
    };
    await expect(imports.importLeads(params)).rejects.toThrow('injected failure');

    expect(await db().dataSource.manager.find(Contact, { order: { id: 'ASC' } })).toEqual(contactsBefore);
    expect(await db().dataSource.manager.count(ContactIdentity)).toBe(identitiesBefore);
    expect(await db().dataSource.manager.query('SELECT COUNT(*) AS n FROM contact_tags')).toEqual(tagsBefore);
    const [staged]: { id: number | string; status: string; error: string | null }[] = await db().dataSource.manager.query(
      'SELECT id, status, error FROM imports ORDER BY id DESC LIMIT 1',
    );
    expect(staged).toMatchObject({ status: 'staged', error: 'injected failure' });

    failing = false;
    const applied = await imports.applyImport(Number(staged.id), { operatorId: null, ip: null });
    expect(applied).toMatchObject({ status: 'done', created: 2, updated: 1 });
    // Applied again through the API (as the page would after a failure): answered as it is, nothing twice.
    const again = await request(stack.baseUrl).post(`/api/admin/imports/${staged.id}/apply`).set('authorization', `Bearer ${token}`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'done', created: 2, updated: 1 });
    expect(await contactCount()).toBe(contactsBefore.length + 2);
    expect(await db().dataSource.manager.countBy(Interaction, { type: 'imported', refId: String(staged.id) })).toBe(3);
    expect(await contactByPhone('+8613500000001')).toMatchObject({ name: 'Old', company: 'NewCo' });
  });

  it('refuses a body over IMPORT_MAX_BYTES with 413, and imports nothing of it', async () => {
    const contacts = await contactCount();
    const rows = ['phone,name', ...Array.from({ length: 400 }, (_, i) => `158${String(i).padStart(8, '0')},Lead ${i}`)];
    const res = await upload(Buffer.from(rows.join('\n')));
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ error: { code: 'payload_too_large', message: expect.any(String) as string } });
    expect(await contactCount()).toBe(contacts);
  });

  it('answers a file it cannot read with a 400 naming why', async () => {
    const noPhone = await upload(Buffer.from('姓名,公司\n张三,某公司\n'));
    expect(noPhone.status).toBe(400);
    expect((noPhone.body as { error: { code: string } }).error.code).toBe('no_phone_column');
    const empty = await upload(Buffer.alloc(0));
    expect(empty.status).toBe(400);
    expect((empty.body as { error: { code: string } }).error.code).toBe('empty_file');
    // A tag the Official Account would refuse (over 30 bytes: 10 Chinese characters) is refused before the file is read.
    const longTag = await upload(
      Buffer.from('手机\n13812345678\n'),
      `tag=${encodeURIComponent('展会:二〇二六年上海国际工业博览会专业观众')}`,
    );
    expect(longTag.status).toBe(400);
    expect(longTag.body).toMatchObject({ error: { code: 'bad_request', details: [{ path: 'tag.0', code: 'tag_name_oa_bytes' }] } });
    const missing = await request(stack.baseUrl).get('/api/admin/imports/999999').set('authorization', `Bearer ${token}`);
    expect(missing.status).toBe(404);
    const json = await request(stack.baseUrl).post('/api/admin/imports').set('authorization', `Bearer ${token}`).send({ phone: '1' });
    expect(json.status).toBe(415);
  });
});
