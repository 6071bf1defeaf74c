/**
 * Small RGB textures drawn procedurally once per scene, with box-filtered mip levels so that a far surface samples a
 * pre-averaged level instead of aliasing (a checkered gate border seen from 30 m would otherwise sparkle).
 */
export interface MipLevel {
  w: number;
  h: number;
  /** RGB, row-major, 0..255. */
  data: Uint8Array;
}

export class Texture {
  readonly levels: MipLevel[] = [];

  constructor(
    readonly w: number,
    readonly h: number,
    readonly data: Uint8Array = new Uint8Array(w * h * 3),
  ) {}

  fill(rgb: RGB): this {
    return this.rect(0, 0, this.w, this.h, rgb);
  }

  /** Fills [x0,x1)×[y0,y1) in texels (clipped). */
  rect(x0: number, y0: number, x1: number, y1: number, rgb: RGB): this {
    const xa = Math.max(0, Math.floor(x0)), xb = Math.min(this.w, Math.floor(x1));
    const ya = Math.max(0, Math.floor(y0)), yb = Math.min(this.h, Math.floor(y1));
    for (let y = ya; y < yb; y++)
      for (let x = xa; x < xb; x++) {
        const i = (y * this.w + x) * 3;
        this.data[i] = rgb[0];
        this.data[i + 1] = rgb[1];
        this.data[i + 2] = rgb[2];
      }
    return this;
  }

  /** Multiplies texels by a per-texel factor (baked lighting). */
  modulate(f: (x: number, y: number) => number): this {
    for (let y = 0; y < this.h; y++)
      for (let x = 0; x < this.w; x++) {
        const k = f(x, y);
        const i = (y * this.w + x) * 3;
        for (let c = 0; c < 3; c++) this.data[i + c] = Math.min(255, Math.round(this.data[i + c]! * k));
      }
    return this;
  }

  /** Draws text in a 5×7 block font, each font pixel `px` texels, top-left at (x, y). */
  text(s: string, x: number, y: number, px: number, rgb: RGB): this {
    let cx = x;
    for (const ch of s.toUpperCase()) {
      const glyph = FONT[ch];
      if (glyph)
        for (let r = 0; r < 7; r++)
          for (let c = 0; c < 5; c++)
            if (glyph[r]!.charCodeAt(c) === 35) this.rect(cx + c * px, y + r * px, cx + (c + 1) * px, y + (r + 1) * px, rgb);
      cx += 6 * px;
    }
    return this;
  }

  /** Builds the mip chain; call after drawing. Level 0 is the texture itself. */
  finish(): this {
    this.levels.length = 0;
    let cur: MipLevel = { w: this.w, h: this.h, data: this.data };
    this.levels.push(cur);
    while (cur.w > 2 && cur.h > 2 && this.levels.length < 8) {
      const w = cur.w >> 1, h = cur.h >> 1;
      const d = new Uint8Array(w * h * 3);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let c = 0; c < 3; c++) {
            const a = ((2 * y) * cur.w + 2 * x) * 3 + c;
            const b = ((2 * y + 1) * cur.w + 2 * x) * 3 + c;
            d[(y * w + x) * 3 + c] = (cur.data[a]! + cur.data[a + 3]! + cur.data[b]! + cur.data[b + 3]! + 2) >> 2;
          }
      cur = { w, h, data: d };
      this.levels.push(cur);
    }
    return this;
  }
}

export type RGB = [number, number, number];

export function jitter(rgb: RGB, amount: number, rnd: () => number): RGB {
  return rgb.map((v) => Math.max(0, Math.min(255, Math.round(v * (1 + amount * (2 * rnd() - 1)))))) as RGB;
}

/** '#' marks a lit font pixel; only the characters the scene prints. */
const FONT: Record<string, string[]> = {
  A: [' ### ', '#   #', '#   #', '#####', '#   #', '#   #', '#   #'],
  I: [' ### ', '  #  ', '  #  ', '  #  ', '  #  ', '  #  ', ' ### '],
  R: ['#### ', '#   #', '#   #', '#### ', '# #  ', '#  # ', '#   #'],
  G: [' ####', '#    ', '#    ', '# ###', '#   #', '#   #', ' ### '],
  T: ['#####', '  #  ', '  #  ', '  #  ', '  #  ', '  #  ', '  #  '],
  E: ['#####', '#    ', '#    ', '#### ', '#    ', '#    ', '#####'],
  X: ['#   #', '#   #', ' # # ', '  #  ', ' # # ', '#   #', '#   #'],
  O: [' ### ', '#   #', '#   #', '#   #', '#   #', '#   #', ' ### '],
  '0': [' ### ', '#   #', '#  ##', '# # #', '##  #', '#   #', ' ### '],
  '1': ['  #  ', ' ##  ', '  #  ', '  #  ', '  #  ', '  #  ', ' ### '],
  '2': [' ### ', '#   #', '    #', '   # ', '  #  ', ' #   ', '#####'],
  '3': ['#####', '   # ', '  #  ', '   # ', '    #', '#   #', ' ### '],
  '4': ['   # ', '  ## ', ' # # ', '#  # ', '#####', '   # ', '   # '],
  '5': ['#####', '#    ', '#### ', '    #', '    #', '#   #', ' ### '],
  '6': ['  ## ', ' #   ', '#    ', '#### ', '#   #', '#   #', ' ### '],
  '7': ['#####', '    #', '   # ', '  #  ', ' #   ', ' #   ', ' #   '],
  '8': [' ### ', '#   #', '#   #', ' ### ', '#   #', '#   #', ' ### '],
  '9': [' ### ', '#   #', '#   #', ' ####', '    #', '   # ', ' ##  '],
};
