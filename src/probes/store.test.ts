// The IndexedDB recording store in Node, on fake-indexeddb (a complete in-memory IndexedDB): listing
// without payloads, get/put/rename/delete/export, persistence across connections, and imports that are
// rejected leaving everything stored before untouched.

import { describe, expect, it } from 'vitest';
import { IDBFactory } from 'fake-indexeddb';
import { encodeRecording, SnapshotError } from './snapshot';
import { RecordingStore, RecordingStoreError } from './store';
import { makeRecording } from './testRecording';

describe('RecordingStore', () => {
  it('puts, lists (newest first), gets, renames, exports and deletes', async () => {
    const idb = new IDBFactory();
    const store = await RecordingStore.open({ indexedDB: idb });
    expect(await store.list()).toEqual([]);

    const a = await makeRecording(3, 1);
    const b = await makeRecording(5, 2); // createdAt one second later
    const sa = await store.put(a);
    const sb = await store.put(b);
    expect(sa.id).not.toBe(sb.id);
    expect(sb).toMatchObject({ name: b.name, createdAt: b.createdAt, modelId: 'test-model', modelSha256: b.model.sha256, promptTokens: 5, generatedTokens: 5 });
    expect(sb.bytes).toBe(encodeRecording(b).length);
    expect((await store.list()).map((s) => s.id)).toEqual([sb.id, sa.id]);

    expect(await store.get(sa.id)).toEqual(a);
    expect(await store.get(9999)).toBeUndefined();

    const renamed = await store.rename(sa.id, 'my run');
    expect(renamed.name).toBe('my run');
    expect((await store.get(sa.id))!.name).toBe('my run');
    const exported = await store.export(sa.id);
    expect(new TextDecoder().decode(exported)).toContain('"name": "my run"');
    expect(exported).toEqual(encodeRecording({ ...a, name: 'my run' }));

    await store.delete(sb.id);
    expect((await store.list()).map((s) => s.id)).toEqual([sa.id]);
    expect(await store.get(sb.id)).toBeUndefined();
    await expect(store.delete(sb.id)).rejects.toBeInstanceOf(RecordingStoreError);
    await expect(store.rename(sb.id, 'x')).rejects.toMatchObject({ code: 'not-found' });
    await expect(store.export(sb.id)).rejects.toMatchObject({ code: 'not-found' });
    await expect(store.rename(sa.id, '')).rejects.toBeInstanceOf(SnapshotError);
    store.close();

    // Another connection (a reload) sees the same recordings.
    const again = await RecordingStore.open({ indexedDB: idb });
    expect((await again.list()).map((s) => s.name)).toEqual(['my run']);
    again.close();
  });

  it('imports a valid file byte for byte, and an invalid one changes nothing', async () => {
    const store = await RecordingStore.open({ indexedDB: new IDBFactory() });
    const kept = await makeRecording(4, 1);
    const keptSummary = await store.put(kept);
    const before = await store.list();

    const file = encodeRecording(await makeRecording(2, 3));
    const bad = [
      file.slice(0, file.length - 100), // truncated
      new TextEncoder().encode('{"format": "sparse-gpt2-recording", "version": 7}'),
      new Uint8Array([0xc3, 0x28]), // not UTF-8
      new TextEncoder().encode(new TextDecoder().decode(file).replace('"nLayer": 2', '"nLayer": 3')),
    ];
    for (const f of bad) {
      await expect(store.import(f)).rejects.toBeInstanceOf(SnapshotError);
      expect(await store.list()).toEqual(before);
      expect(await store.get(keptSummary.id)).toEqual(kept);
    }
    // An invalid in-memory recording is refused the same way.
    const broken = await makeRecording(2, 4);
    broken.steps[0].id = 10_000;
    await expect(store.put(broken)).rejects.toThrow('steps[0].id');
    expect(await store.list()).toEqual(before);

    const imported = await store.import(file);
    expect(await store.export(imported.id)).toEqual(file);
    expect((await store.list()).length).toBe(2);
    store.close();
  });

  it('says clearly when there is no IndexedDB', async () => {
    await expect(RecordingStore.open({ indexedDB: undefined })).rejects.toMatchObject({ code: 'unavailable' });
  });
});
