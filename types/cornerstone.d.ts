/** The parts of cornerstone-core 2.6 the case viewer uses (it ships no types). DICOM goes through our own loader (dicom-image-loader.ts). */
declare module "cornerstone-core" {
  export interface Voi {
    windowWidth: number;
    windowCenter: number;
  }
  export interface Viewport {
    scale: number;
    translation: { x: number; y: number };
    voi: Voi;
    invert: boolean;
  }
  export interface CornerstoneImage {
    imageId: string;
    minPixelValue: number;
    maxPixelValue: number;
    slope: number;
    intercept: number;
    windowCenter: number;
    windowWidth: number;
    getPixelData: () => ArrayLike<number>;
    getCanvas?: () => HTMLCanvasElement;
    rows: number;
    columns: number;
    height: number;
    width: number;
    color: boolean;
    rgba?: boolean;
    columnPixelSpacing: number;
    rowPixelSpacing: number;
    invert: boolean;
    sizeInBytes: number;
  }
  export interface ImageLoadObject {
    promise: Promise<CornerstoneImage>;
    cancelFn?: () => void;
  }
  const cornerstone: {
    enable(element: HTMLElement): void;
    disable(element: HTMLElement): void;
    resize(element: HTMLElement, forceFitToWindow?: boolean): void;
    loadAndCacheImage(imageId: string): Promise<CornerstoneImage>;
    displayImage(element: HTMLElement, image: CornerstoneImage, viewport?: Partial<Viewport>): void;
    getViewport(element: HTMLElement): Viewport | undefined;
    setViewport(element: HTMLElement, viewport: Partial<Viewport>): void;
    reset(element: HTMLElement): void;
    /** Image pixel coordinates → the element's canvas coordinates (CSS pixels from its top-left), under the current zoom and pan. */
    pixelToCanvas(element: HTMLElement, point: { x: number; y: number }): { x: number; y: number };
    /** The inverse of pixelToCanvas. */
    canvasToPixel(element: HTMLElement, point: { x: number; y: number }): { x: number; y: number };
    /** Draws `image` at its own size into `canvas` (default viewport), outside any enabled element. */
    renderToCanvas(canvas: HTMLCanvasElement, image: CornerstoneImage): void;
    registerImageLoader(scheme: string, loader: (imageId: string) => ImageLoadObject): void;
    /** The image cache: an image id's load object once loadAndCacheImage has been asked for it (loading or loaded). */
    imageCache: { getImageLoadObject(imageId: string): ImageLoadObject | undefined };
    events: EventTarget;
  };
  export default cornerstone;
}
