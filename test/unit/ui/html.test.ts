import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { html, raw } from '../../../src/ui/html.ts';
import { renderPage } from '../../../src/ui/layout.ts';

describe('html', () => {
  it('escapes every interpolated value unless it is SafeHtml', () => {
    const name = '<script>alert("x")</script> & \'co\'';
    assert.equal(
      html`<p>${name}</p>${raw('<b>ok</b>')}${[html`<i>${'<'}</i>`]}${undefined}${false}`.value,
      '<p>&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;co&#39;</p><b>ok</b><i>&#60;</i>',
    );
  });

  it('renders a page without inline script or style, with the correlation id', () => {
    const page = renderPage({ title: 'T <x>', body: html`<h1>Hi</h1>`, correlationId: 'abc123' });
    assert.match(page, /<title>T &#60;x&#62;<\/title>/);
    assert.match(page, /Correlation id: <code data-testid="correlation-id">abc123<\/code>/);
    assert.doesNotMatch(page, /<script|style=|<style/);
  });
});
