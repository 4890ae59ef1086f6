import { Body, Controller, Delete, Get, Param, Post, Put, Query, Res, StreamableFile, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser, JwtAuthGuard } from '@app/auth';
import {
  ContentExport,
  ContentExportService,
  ContentItemDto,
  ContentService,
  CreateContentDto,
  DeletedContentDto,
  ExportContentQueryDto,
  ExportItemQueryDto,
  ListContentQueryDto,
  UpdateContentDto,
} from '@app/content';
import { HeaderReply, NEXT_PAGE_HEADERS, streamedList } from '../common/paged-list';

const EXPORT_TYPES = ['application/json', 'text/markdown', 'application/pdf'];
const EXPORT_HEADERS = {
  'Content-Disposition': { description: 'attachment; filename="library-2026-11-24.pdf" (ASCII), plus filename*=UTF-8\'\'... with the real title for one item' },
  'X-Export-Truncated': { description: '"true" when more items matched than EXPORT_MAX_ITEMS: the file holds the newest ones and says so' },
};

/** The export as a download, with X-Export-Truncated when it stopped at the limit. */
function download(reply: HeaderReply, file: ContentExport): StreamableFile {
  if (file.truncated) reply.header('X-Export-Truncated', 'true');
  return new StreamableFile(file.stream, { type: file.contentType, disposition: file.disposition });
}

@ApiTags('content')
@ApiBearerAuth()
@UseGuards(JwtAuthGuard)
@Controller('content')
export class ContentController {
  constructor(
    private readonly content: ContentService,
    private readonly exports: ContentExportService,
  ) {}

  @Get()
  @ApiOperation({ summary: "The caller's library, newest first: all of it without `limit` (up to LIST_MAX_ITEMS); X-Next-Cursor and Link rel=next point on" })
  @ApiResponse({ status: 200, type: [ContentItemDto], headers: NEXT_PAGE_HEADERS })
  async list(@CurrentUser() user: AuthUser, @Query() query: ListContentQueryDto, @Res({ passthrough: true }) reply: HeaderReply): Promise<StreamableFile> {
    const page = await this.content.list(user.id, query);
    return streamedList(reply, page, 'content', { search: query.search, limit: query.limit });
  }

  // Before GET :id, or `export` would be read as an id.
  @Get('export')
  @ApiOperation({
    summary: "Download the caller's library (or the items matching `search`, or those listed in `ids`) as JSON, Markdown or PDF, newest first, at most EXPORT_MAX_ITEMS",
  })
  @ApiProduces(...EXPORT_TYPES)
  @ApiResponse({ status: 200, description: 'The file, streamed as an attachment', headers: EXPORT_HEADERS, schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: 400, description: 'A bad format, search or ids (the message names the field)' })
  async exportLibrary(@CurrentUser() user: AuthUser, @Query() query: ExportContentQueryDto, @Res({ passthrough: true }) reply: HeaderReply): Promise<StreamableFile> {
    return download(reply, await this.exports.exportLibrary(user.id, query));
  }

  @Get(':id/export')
  @ApiOperation({ summary: 'Download one item as JSON, Markdown or PDF, named after its title' })
  @ApiProduces(...EXPORT_TYPES)
  @ApiResponse({ status: 200, description: 'The file, streamed as an attachment', headers: EXPORT_HEADERS, schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: 400, description: 'A bad format' })
  @ApiResponse({ status: 404, description: 'No such item in the caller library' })
  async exportItem(@CurrentUser() user: AuthUser, @Param('id') id: string, @Query() query: ExportItemQueryDto, @Res({ passthrough: true }) reply: HeaderReply): Promise<StreamableFile> {
    return download(reply, await this.exports.exportItem(user.id, id, query.format));
  }

  @Get(':id')
  @ApiResponse({ status: 200, type: ContentItemDto })
  @ApiResponse({ status: 404, description: 'No such item in the caller library' })
  get(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<ContentItemDto> {
    return this.content.get(user.id, id);
  }

  @Post()
  @ApiResponse({ status: 201, type: ContentItemDto })
  create(@CurrentUser() user: AuthUser, @Body() body: CreateContentDto): Promise<ContentItemDto> {
    return this.content.create(user.id, body);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Change any of title, type and body' })
  @ApiResponse({ status: 200, type: ContentItemDto })
  @ApiResponse({ status: 404, description: 'No such item in the caller library' })
  update(@CurrentUser() user: AuthUser, @Param('id') id: string, @Body() body: UpdateContentDto): Promise<ContentItemDto> {
    return this.content.update(user.id, id, body);
  }

  @Delete(':id')
  @ApiResponse({ status: 200, type: DeletedContentDto })
  @ApiResponse({ status: 404, description: 'No such item in the caller library' })
  remove(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<DeletedContentDto> {
    return this.content.remove(user.id, id);
  }
}
