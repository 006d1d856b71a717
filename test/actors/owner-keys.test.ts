import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OwnerKeys } from '../../actors/mutex/owner-keys.ts';

describe('the keys of each owner (for release-owner)', () => {
  it('keeps one interest per owner and key, the same object across calls and as an owner gains keys', () => {
    const o = new OwnerKeys();
    const a = o.interest('w1', 'k1');
    a.pending = 2;
    assert.equal(o.interest('w1', 'k1'), a);
    const b = o.interest('w1', 'k2');
    assert.notEqual(b, a);
    assert.equal(o.interest('w1', 'k1'), a, 'the first interest survives the owner’s second key');
    assert.equal(o.get('w1', 'k1')?.pending, 2);
    assert.equal(o.get('w1', 'k3'), undefined);
    assert.equal(o.get('w2', 'k1'), undefined);
    assert.equal(o.size, 1);
  });

  it('forgets a key of an owner, and the owner with its last key', () => {
    const o = new OwnerKeys();
    o.interest('w1', 'k1');
    o.forget('w1', 'other');
    assert.equal(o.size, 1, 'another key forgets nothing');
    o.forget('w1', 'k1');
    assert.equal(o.size, 0);
    o.interest('w2', 'k1');
    o.interest('w2', 'k2');
    o.forget('w2', 'k1');
    assert.deepEqual(o.take('w2'), ['k2']);
    assert.equal(o.size, 0);
  });

  it('hands over every key of an owner once', () => {
    const o = new OwnerKeys();
    o.interest('w1', 'k1');
    o.interest('w1', 'k2');
    o.interest('w2', 'k1');
    assert.deepEqual(o.take('w1').sort(), ['k1', 'k2']);
    assert.deepEqual(o.take('w1'), []);
    assert.deepEqual(o.take('w2'), ['k1']);
  });

  it('sweeps stale interests, and owners left with none', () => {
    const o = new OwnerKeys();
    o.interest('single', 'k1').until = 10;
    o.interest('many', 'k1').until = 10;
    o.interest('many', 'k2').until = 99;
    o.interest('kept', 'k3').until = 99;
    o.sweep((i) => i.until < 50);
    assert.equal(o.get('single', 'k1'), undefined);
    assert.equal(o.get('many', 'k1'), undefined);
    assert.equal(o.get('many', 'k2')?.until, 99);
    assert.equal(o.size, 2);
  });
});
