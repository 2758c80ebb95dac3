/**
 * miniprogram-simulate as the page tests use it: load a page of miniprogram/ (its .ts runs through
 * ts-jest, its WXML through the official compiler, the wcc binary), render it, call its page
 * lifecycle methods (onLoad, onShow…, which the simulator does not call: it has no Page()), tap.
 *
 * The package's own types pull in miniprogram-api-typings, whose globals clash with @types/node
 * (`require`, timers), so the package is loaded without its types (createRequire) and the few calls
 * the tests need get their own small types here. The DOM is jsdom's (the test files' environment);
 * the root tsconfig has no DOM library, so only what is used is declared.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { settle } from './fake-wx';

export const MINIPROGRAM_ROOT = path.resolve(__dirname, '../../miniprogram');

/** One node of a rendered component tree. */
declare const document: { createElement(tagName: string): object };

export interface SimNode {
  readonly dom: { readonly textContent: string | null } | undefined;
  dispatchEvent(eventName: string, options?: { detail?: unknown }): void;
  querySelector(selector: string): SimNode | undefined;
  querySelectorAll(selector: string): SimNode[];
}

interface SimRoot extends SimNode {
  readonly instance: { data: Record<string, unknown> } & Record<string, unknown>;
  attach(parent: object): void;
  detach(): void;
}

interface SimulateApi {
  load(componentPath: string, options: { compiler: 'official' | 'simulate'; rootPath: string }): string;
  render(id: string, properties?: Record<string, unknown>): SimRoot;
}

function simulateApi(): SimulateApi {
  const loaded: unknown = createRequire(__filename)('miniprogram-simulate');
  const load: unknown = typeof loaded === 'object' && loaded !== null ? Reflect.get(loaded, 'load') : undefined;
  const render: unknown = typeof loaded === 'object' && loaded !== null ? Reflect.get(loaded, 'render') : undefined;
  if (typeof load !== 'function' || typeof render !== 'function') throw new Error('miniprogram-simulate has no load/render');
  return {
    load: (componentPath, options) => String(Reflect.apply(load, loaded, [componentPath, options])),
    render: (id, properties) => Reflect.apply(render, loaded, [id, properties]) as SimRoot,
  };
}

const api = simulateApi();

/**
 * Loads a page once per test file: the simulator runs the page's module through `require`, which
 * jest caches, so a second load of the same page in one file would not register it again.
 */
export function loadPage(page: string): string {
  return api.load(path.join(MINIPROGRAM_ROOT, page), { compiler: 'official', rootPath: MINIPROGRAM_ROOT });
}

export class PageHandle {
  private readonly root: SimRoot;

  constructor(id: string) {
    this.root = api.render(id);
    this.root.attach(document.createElement('parent-wrapper'));
  }

  get data(): Record<string, unknown> {
    return this.root.instance.data;
  }

  /** Calls a page method (a lifecycle like onLoad, or a handler) and waits for it and its wx calls. */
  async call(method: string, ...args: unknown[]): Promise<unknown> {
    const fn = this.root.instance[method];
    if (typeof fn !== 'function') throw new Error(`the page has no method ${method}`);
    const result: unknown = await Promise.resolve(Reflect.apply(fn, this.root.instance, args));
    await settle();
    return result;
  }

  $(selector: string): SimNode | undefined {
    return this.root.querySelector(selector);
  }

  $$(selector: string): SimNode[] {
    return this.root.querySelectorAll(selector);
  }

  /** The text a user sees in the element matched by the selector ('' when absent). */
  text(selector = ''): string {
    const node = selector ? this.root.querySelector(selector) : this.root;
    return node?.dom?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
  }

  /** Dispatches an event (a tap) on the element, then lets the page's work finish. */
  async fire(selector: string, eventName = 'tap', detail?: unknown): Promise<void> {
    const node = this.root.querySelector(selector);
    if (!node) throw new Error(`no element matches ${selector}`);
    node.dispatchEvent(eventName, detail === undefined ? undefined : { detail });
    await settle();
  }

  detach(): void {
    this.root.detach();
  }
}
